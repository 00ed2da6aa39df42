import { CraFlag, buildResponse, encodeGeneralSigning, openCommand, parseEui64, wrapWithMac, type GeneralSigning } from "../../gbcs/index.ts";
import { DCC_EUI } from "../../duis/constants.ts";
import type { Eui } from "../../duis/eui.ts";
import type { DeviceRecord } from "../han.ts";
import type { GbcsKeys } from "../gbcs-keys.ts";

/** GBCS message code of ECS52 Read ESME Firmware Version (DUIS SRV 11.2 on an ESME). */
export const ECS52_MESSAGE_CODE = 0x0059;

/** The firmware version object an ESME reads for ECS52: class 1 (Data), OBIS 0-0:0.2.1.255, attribute 2. */
const FIRMWARE_VERSION_ATTRIBUTE = Uint8Array.of(0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x01, 0xff, 0x02);

/** DLMS long-invoke-id-and-priority: `0x20` then the low 24 bits of the GBCS counter. */
function invokeId(counter: bigint): number[] {
  const low = Number(counter & 0xffffffn);
  return [0x20, (low >> 16) & 0xff, (low >> 8) & 0xff, low & 0xff];
}

/**
 * DLMS Access-Request (tag D9) reading the firmware version: date-time
 * absent, one request specification (GET of the attribute), one data item
 * (null).
 */
export function firmwareVersionRequest(counter: bigint): Uint8Array {
  return Uint8Array.of(0xd9, ...invokeId(counter), 0x00, 0x01, 0x01, ...FIRMWARE_VERSION_ATTRIBUTE, 0x01, 0x00);
}

/**
 * DLMS Access-Response (tag DA): date-time absent, no access-request
 * specification, one data item (the firmware version as an octet-string),
 * one response specification (GET, result success).
 */
export function firmwareVersionResponse(counter: bigint, firmwareVersion: Uint8Array): Uint8Array {
  return Uint8Array.of(0xda, ...invokeId(counter), 0x00, 0x00, 0x01, 0x09, firmwareVersion.length, ...firmwareVersion, 0x01, 0x01, 0x00);
}

/** How the DCC addresses a device command and who receives the device's response. */
export interface Routing {
  /** GBCS originator of the command and recipient of the response. */
  remoteParty: Eui;
  /** GBCS originator counter of the command, echoed in the response. */
  counter: bigint;
  /** Set when the access control broker relays for a user: the user and its DUIS counter. */
  supplementary?: { remotePartyId: Eui; remotePartyCounter: bigint };
}

/**
 * ECS52 Read ESME Firmware Version, end to end through the emulated HAN:
 * the DCC builds the command and MACs it with the access control broker's
 * KA key (GBCS: the DCC applies the command MAC); the ESME checks the MAC,
 * reads its firmware version and answers with a response MAC'd with its KA
 * key and the recipient's. Returns the response bytes.
 */
export function runEcs52(device: DeviceRecord, routing: Routing, keys: GbcsKeys): Uint8Array {
  const deviceKa = keys.deviceKa(device.eui);
  if (!deviceKa) throw new Error(`device ${device.eui} has no key-agreement credentials; provision it first`);

  const command: GeneralSigning = {
    cra: CraFlag.command,
    originatorCounter: routing.counter,
    originator: parseEui64(routing.remoteParty),
    recipient: parseEui64(device.eui),
    dateTime: undefined,
    otherInfo: {
      messageCode: ECS52_MESSAGE_CODE,
      ...(routing.supplementary && {
        supplementaryRemotePartyId: parseEui64(routing.supplementary.remotePartyId),
        supplementaryRemotePartyCounter: routing.supplementary.remotePartyCounter,
      }),
    },
    content: firmwareVersionRequest(routing.counter),
    signature: { form: "empty" },
  };
  const commandBytes = wrapWithMac(encodeGeneralSigning(command), {
    senderKaPrivateKey: keys.acbKaPrivateKey(),
    peerKaPublicKey: deviceKa.publicKey,
  });

  // The device side: check the DCC's MAC before acting on the command.
  const received = openCommand(commandBytes, {
    deviceKaPrivateKey: deviceKa.privateKey,
    remoteKaPublicKey: keys.remotePartyKaPublicKey(DCC_EUI as Eui),
  });

  const response = buildResponse(received.apdu, {
    content: firmwareVersionResponse(received.apdu.originatorCounter, Buffer.from(device.firmwareVersion, "hex")),
    ...(routing.supplementary && {
      supplementaryRemotePartyId: parseEui64(routing.supplementary.remotePartyId),
      supplementaryRemotePartyCounter: routing.supplementary.remotePartyCounter,
    }),
  });
  return wrapWithMac(response, {
    senderKaPrivateKey: deviceKa.privateKey,
    peerKaPublicKey: keys.remotePartyKaPublicKey(routing.remoteParty),
  });
}
