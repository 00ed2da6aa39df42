import { buildResponse } from "../../gbcs/index.ts";
import type { DeviceRecord } from "../han.ts";
import type { GbcsKeys } from "../gbcs-keys.ts";
import { accessRequest, accessResponse, cosem, nullData, octets, successes } from "./dlms.ts";
import { dccCommand, macResponse, receiveCommand, supplementaryFields, type Routing } from "./wan.ts";

export type { Routing } from "./wan.ts";

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

/** Builds the DCC's ECS52 command to an ESME, MAC'd (`DD`). */
export function ecs52Command(device: DeviceRecord, routing: Routing, keys: GbcsKeys): Uint8Array {
  return dccCommand(device, routing, keys, ECS52_MESSAGE_CODE, firmwareVersionRequest(routing.counter));
}

/**
 * Runs ECS52 on the ESME and returns its MAC'd response: the ESME checks the
 * DCC's MAC, reads its firmware version and MACs the response with its KA
 * key and the remote party's.
 */
export function ecs52Respond(device: DeviceRecord, command: Uint8Array, routing: Routing, keys: GbcsKeys): Uint8Array {
  const received = receiveCommand(device, command, keys);
  const response = buildResponse(received.apdu, {
    content: firmwareVersionResponse(received.apdu.originatorCounter, Buffer.from(device.firmwareVersion, "hex")),
    ...supplementaryFields(routing),
  });
  return macResponse(device, response, routing, keys);
}

/** Runs ECS52 Read ESME Firmware Version through the emulated HAN and returns the response bytes. */
export function runEcs52(device: DeviceRecord, routing: Routing, keys: GbcsKeys): Uint8Array {
  return ecs52Respond(device, ecs52Command(device, routing, keys), routing, keys);
}
