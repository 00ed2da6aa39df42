import { buildCommand, buildResponse, openCommand, parseEui64, wrapWithMac } from "../../gbcs/index.ts";
import { DCC_EUI } from "../../duis/constants.ts";
import type { Eui } from "../../duis/eui.ts";
import type { DeviceRecord } from "../han.ts";
import type { GbcsKeys } from "../gbcs-keys.ts";
import { accessRequest, accessResponse, cosem, nullData, octets, successes } from "./dlms.ts";

/** GBCS message code of ECS52 Read ESME Firmware Version (DUIS SRV 11.2 on an ESME). */
export const ECS52_MESSAGE_CODE = 0x0059;

/** The firmware version object an ESME reads for ECS52: class 1 (Data), OBIS 0-0:0.2.1.255, attribute 2. */
const FIRMWARE_VERSION = cosem(1, "0000000201FF", 2);

/** Encodes the DLMS Access-Request of ECS52: one GET of the firmware version, with a null data item. */
export function firmwareVersionRequest(counter: bigint): Uint8Array {
  return accessRequest(counter, [{ kind: "get", descriptor: FIRMWARE_VERSION }], [nullData]);
}

/** Encodes the DLMS Access-Response of ECS52: the firmware version as an octet-string, result success. */
export function firmwareVersionResponse(counter: bigint, firmwareVersion: Uint8Array): Uint8Array {
  return accessResponse(counter, [octets(firmwareVersion)], successes("get", 1));
}

/** The addressing of a device command: its GBCS originator and counter, and any user the DCC relays for. */
export interface Routing {
  /** GBCS originator of the command and recipient of the response. */
  remoteParty: Eui;
  /** GBCS originator counter of the command, echoed in the response. */
  counter: bigint;
  /** Set when the access control broker relays for a user: the user and its DUIS counter. */
  supplementary?: { remotePartyId: Eui; remotePartyCounter: bigint };
}

/**
 * Runs ECS52 Read ESME Firmware Version through the emulated HAN and returns
 * the response bytes. The DCC builds the command and MACs it with the access
 * control broker's KA key (GBCS: the DCC applies the command MAC). The ESME
 * checks the MAC, reads its firmware version and MACs its response with its
 * KA key and the recipient's.
 */
export function runEcs52(device: DeviceRecord, routing: Routing, keys: GbcsKeys): Uint8Array {
  const deviceKa = keys.deviceKa(device.eui);
  if (!deviceKa) throw new Error(`device ${device.eui} has no key-agreement credentials; provision it first`);

  const supplementary = routing.supplementary && {
    supplementaryRemotePartyId: parseEui64(routing.supplementary.remotePartyId),
    supplementaryRemotePartyCounter: routing.supplementary.remotePartyCounter,
  };
  const command = buildCommand({
    originator: parseEui64(routing.remoteParty),
    recipient: parseEui64(device.eui),
    counter: routing.counter,
    messageCode: ECS52_MESSAGE_CODE,
    content: firmwareVersionRequest(routing.counter),
    ...(supplementary && { otherInfo: supplementary }),
  });
  const commandBytes = wrapWithMac(command, {
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
    ...supplementary,
  });
  return wrapWithMac(response, {
    senderKaPrivateKey: deviceKa.privateKey,
    peerKaPublicKey: keys.remotePartyKaPublicKey(routing.remoteParty),
  });
}
