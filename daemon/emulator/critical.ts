import {
  buildCommand,
  buildCommandFromSignedPreCommand,
  buildResponse,
  decodeMessage,
  encodeGeneralSigning,
  GbcsRemoteDataError,
  openCommand,
  parseEui64,
  signGeneralSigning,
  toHex,
  verifyGeneralSigning,
  verifyPreCommandSignature,
} from "../gbcs/index.ts";
import { ResponseCode } from "../duis/codes.ts";
import { DCC_EUI, GBCS_VERSION } from "../duis/constants.ts";
import type { Eui } from "../duis/eui.ts";
import type { ServiceOutcome } from "../duis/gateway.ts";
import type { DuisRequest } from "../duis/request.ts";
import { element, group } from "../duis/response.ts";
import type { GbcsKeys } from "./gbcs-keys.ts";
import type { DeviceRecord } from "./han.ts";
import type { PreCommandStore } from "./pre-commands.ts";
import type { CriticalUseCase } from "./use-cases/critical-use-case.ts";

/** Result of a completed critical command: the device-signed GBCS response, the command for local delivery, or a rejection. */
export type CriticalResult = { kind: "device-response"; gbcs: Uint8Array } | { kind: "local-command"; gbcs: Uint8Array } | ServiceOutcome;

export interface CriticalContext {
  keys: GbcsKeys;
  preCommands: PreCommandStore;
  now: () => Date;
}

/**
 * Transforms a critical service request (DUIS CV 4, Transform Service) into a
 * GBCS pre-command: a General Signing APDU with CRA 1, the RequestID counter
 * and the user as originator. Stores it and returns I0 with a PreCommand
 * whose payload ends with the null signature byte 00, as DCC Boxed 1.4.1 and
 * later do.
 */
export function transform(request: DuisRequest, device: DeviceRecord, useCase: CriticalUseCase, context: CriticalContext): ServiceOutcome {
  const { originator, counter } = request.requestId;
  const body = useCase.transform(request, counter);
  if ("rejected" in body) return { code: ResponseCode.deviceCannotCommunicate, reason: body.rejected };

  const preCommand = encodeGeneralSigning(
    buildCommand({
      originator: parseEui64(originator),
      recipient: parseEui64(device.eui),
      counter,
      messageCode: body.messageCode,
      content: body.content,
      dateTime: body.dateTime,
    }),
  );
  context.preCommands.put(request.requestId.text, preCommand);

  const payload = group("PreCommand", element("GBCSVersion", GBCS_VERSION) + element("GBCSPayload", Buffer.from(preCommand).toString("base64")));
  return { code: ResponseCode.success, payload };
}

function rejected(reason: string): ServiceOutcome {
  return { code: ResponseCode.notAuthenticated, reason };
}

/**
 * Completes a SignedPreCommand (DUIS CV 5 and 6). The DCC checks that it is
 * the pre-command it issued for this RequestID, unchanged, and that the
 * user's Z1 digital-signature key signed it, because GBCS has the DCC verify
 * the remote party's signature before it wraps the command. Then it MACs the
 * command with the access control broker's KA key. For CV 5 the device checks
 * the MAC and the user's signature itself, executes the command, and signs
 * its response with its own DS key, without a MAC, as GBCS requires for
 * critical commands. For CV 6 the command goes back for local delivery.
 */
export function completeSignedPreCommand(
  request: DuisRequest,
  device: DeviceRecord,
  useCase: CriticalUseCase,
  context: CriticalContext,
): CriticalResult {
  const text = request.requestId.text;
  const issued = context.preCommands.get(text);
  if (!issued) return rejected(`no pre-command was issued for RequestID ${text}; transform the request with CV 4 first`);

  const payload = request.bodyFields.get("GBCSPayload") ?? "";
  const signedPreCommand = new Uint8Array(Buffer.from(payload, "base64"));
  const userDsKey = context.keys.remotePartyDsPublicKey(request.requestId.originator);
  const deviceKa = context.keys.deviceKa(device.eui);
  const deviceDs = context.keys.deviceDs(device.eui);
  if (!deviceKa || !deviceDs) return { code: ResponseCode.deviceCannotCommunicate, reason: `device ${device.eui} has no credentials` };

  let command: Uint8Array;
  try {
    const signed = verifyPreCommandSignature(signedPreCommand, userDsKey);
    const original = decodeMessage(issued);
    if (toHex(signed.signedData) !== toHex(original.signedData)) {
      return rejected(`the SignedPreCommand for ${text} differs from the pre-command issued; sign it unchanged`);
    }
    command = buildCommandFromSignedPreCommand(signedPreCommand, {
      acbKaPrivateKey: context.keys.acbKaPrivateKey(),
      deviceKaPublicKey: deviceKa.publicKey,
    });
  } catch (error) {
    if (error instanceof GbcsRemoteDataError) return rejected(`SignedPreCommand for ${text} rejected: ${error.message}`);
    throw error;
  }

  context.preCommands.delete(text);
  if (request.commandVariant === 6) return { kind: "local-command", gbcs: command };

  // The device side: check the DCC's MAC and the user's signature before acting.
  const received = openCommand(command, {
    deviceKaPrivateKey: deviceKa.privateKey,
    remoteKaPublicKey: context.keys.remotePartyKaPublicKey(DCC_EUI as Eui),
  });
  verifyGeneralSigning(received, userDsKey);

  const answer = useCase.execute(received.apdu.content, received.apdu.originatorCounter, context.now());
  const response = buildResponse(received.apdu, { content: answer.content, dateTime: answer.dateTime });
  return { kind: "device-response", gbcs: encodeGeneralSigning(signGeneralSigning(response, deviceDs.privateKey)) };
}
