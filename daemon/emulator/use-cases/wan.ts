import type { KeyObject } from "node:crypto";
import { buildCommand, openCommand, parseEui64, wrapWithMac, type GbcsMessage, type GeneralSigning } from "../../gbcs/index.ts";
import { DCC_EUI } from "../../duis/constants.ts";
import type { Eui } from "../../duis/eui.ts";
import type { GbcsKeys } from "../gbcs-keys.ts";
import type { DeviceRecord } from "../han.ts";

/** The addressing of a device command: its GBCS originator and counter, and any user the DCC relays for. */
export interface Routing {
  /** GBCS originator of the command and recipient of the response. */
  remoteParty: Eui;
  /** GBCS originator counter of the command, echoed in the response. */
  counter: bigint;
  /** Set when the access control broker relays for a user: the user and its DUIS counter. */
  supplementary?: { remotePartyId: Eui; remotePartyCounter: bigint };
}

/** Other-information fields naming the user the DCC relays for, or nothing. */
export function supplementaryFields(routing: Routing) {
  if (!routing.supplementary) return undefined;
  return {
    supplementaryRemotePartyId: parseEui64(routing.supplementary.remotePartyId),
    supplementaryRemotePartyCounter: routing.supplementary.remotePartyCounter,
  };
}

function deviceKeyAgreement(device: DeviceRecord, keys: GbcsKeys): { privateKey: KeyObject; publicKey: KeyObject } {
  const deviceKa = keys.deviceKa(device.eui);
  if (!deviceKa) throw new Error(`device ${device.eui} has no key-agreement credentials; provision it first`);
  return deviceKa;
}

/**
 * Builds the DCC's command to a device and MACs it with the access control
 * broker's KA key, as GBCS has the DCC do for every command, whatever its
 * originator. Returns the MAC-wrapped bytes (`DD`).
 */
export function dccCommand(device: DeviceRecord, routing: Routing, keys: GbcsKeys, messageCode: number, content: Uint8Array): Uint8Array {
  const supplementary = supplementaryFields(routing);
  const command = buildCommand({
    originator: parseEui64(routing.remoteParty),
    recipient: parseEui64(device.eui),
    counter: routing.counter,
    messageCode,
    content,
    ...(supplementary && { otherInfo: supplementary }),
  });
  return wrapWithMac(command, { senderKaPrivateKey: keys.acbKaPrivateKey(), peerKaPublicKey: deviceKeyAgreement(device, keys).publicKey });
}

/** Decodes a command on the device side and checks the DCC's MAC before anything acts on it. */
export function receiveCommand(device: DeviceRecord, command: Uint8Array, keys: GbcsKeys): GbcsMessage {
  return openCommand(command, {
    deviceKaPrivateKey: deviceKeyAgreement(device, keys).privateKey,
    remoteKaPublicKey: keys.remotePartyKaPublicKey(DCC_EUI as Eui),
  });
}

/** MACs a device's response with its KA key and the KA key of the remote party it responds to. */
export function macResponse(device: DeviceRecord, response: GeneralSigning, routing: Routing, keys: GbcsKeys): Uint8Array {
  return wrapWithMac(response, {
    senderKaPrivateKey: deviceKeyAgreement(device, keys).privateKey,
    peerKaPublicKey: keys.remotePartyKaPublicKey(routing.remoteParty),
  });
}
