import { buildProtectedAttributesResponse, encodeDlmsDateTime, type DlmsData } from "../../gbcs/index.ts";
import type { Eui } from "../../duis/eui.ts";
import type { GbcsKeys } from "../gbcs-keys.ts";
import type { DeviceRecord } from "../han.ts";
import { accessRequest, array, cosem, enumeration, nullData, octets, structure } from "./dlms.ts";
import { dccCommand, macResponse, receiveCommand, supplementaryFields, type Routing } from "./wan.ts";

/** GBCS message code of ECS17b Read ESME Energy Registers (Import Energy), DUIS SRV 4.1.1. */
export const ECS17B_MESSAGE_CODE = 0x0027;

/** Data Protection (class 30) object 0-0:43.2.8.255, method 1: get protected attributes. */
const DATA_PROTECTION = cosem(30, "00002B0208FF", 1);
/** The register object the command names for protection: class 1, OBIS 0-0:94.44.34.10, attribute 2. */
const REGISTER_OBJECT = "00005E2C220A";
/** Protection type 2 (encryption) and key information 2 (agreed key) with key parameter 02, as GBCS ECS17b uses. */
const PROTECTION_ENCRYPTION = 2;
const AGREED_KEY = 2;

/** DLMS units of the two registers: 30 active energy (Wh), 32 reactive energy (varh). */
const UNIT_ACTIVE_ENERGY_WH = 30;
const UNIT_REACTIVE_ENERGY_VARH = 32;

/** A constant load for the emulated meter, so the registers advance with time (W and var). */
export const EMULATED_LOAD = { activeW: 500, reactiveVar: 50 } as const;

/**
 * Encodes the DLMS content of the DCC's ECS17b command: one action on Data
 * Protection carrying the register to read and the protection parameters
 * (transaction id 04 ‖ counter, originator and recipient system titles,
 * agreed key).
 */
export function instantaneousRegistersRequest(counter: bigint, originator: Eui, recipient: Eui): Uint8Array {
  const transactionId = Buffer.alloc(9);
  transactionId[0] = 0x04;
  transactionId.writeBigUInt64BE(counter, 1);

  const register = structure(
    { type: "long-unsigned", value: 1 },
    octets(REGISTER_OBJECT),
    { type: "integer", value: 2 },
    { type: "long-unsigned", value: 0 },
    structure(enumeration(0), nullData),
  );
  const protection = structure(
    enumeration(PROTECTION_ENCRYPTION),
    structure(
      octets(transactionId),
      octets(Buffer.from(originator, "hex")),
      octets(Buffer.from(recipient, "hex")),
      octets(new Uint8Array(0)),
      structure(enumeration(AGREED_KEY), structure(octets("02"), octets(new Uint8Array(0)))),
    ),
  );

  return accessRequest(counter, [{ kind: "action", descriptor: DATA_PROTECTION }], [structure(array(register), array(protection))]);
}

/** Returns the ESME's import registers at `now`: active and reactive energy since commissioning at the emulated load. */
export function importRegisters(device: DeviceRecord, now: Date): DlmsData {
  const hours = Math.max(0, (now.getTime() - Date.parse(device.dateCommissioned)) / 3_600_000);
  const activeWh = Math.floor(hours * EMULATED_LOAD.activeW) % 2 ** 32;
  const reactiveVarh = Math.floor(hours * EMULATED_LOAD.reactiveVar) % 2 ** 32;
  const scaledUnit = (unit: number) => structure({ type: "integer", value: 0 }, enumeration(unit));

  return structure(
    structure(
      { type: "double-long-unsigned", value: activeWh },
      scaledUnit(UNIT_ACTIVE_ENERGY_WH),
      { type: "double-long-unsigned", value: reactiveVarh },
      scaledUnit(UNIT_REACTIVE_ENERGY_VARH),
    ),
  );
}

/** Builds the DCC's ECS17b command to an ESME for the user `reader`, MAC'd (`DD`). */
export function ecs17bCommand(device: DeviceRecord, routing: Routing, reader: Eui, keys: GbcsKeys): Uint8Array {
  return dccCommand(device, routing, keys, ECS17B_MESSAGE_CODE, instantaneousRegistersRequest(routing.counter, reader, device.eui));
}

/**
 * Runs ECS17b on the ESME and returns its MAC'd response. The ESME checks the
 * DCC's MAC and encrypts its registers for the remote party that reads them
 * (GBCS protected attributes: AES-128-GCM with the KDF in encryption mode),
 * so only a holder of that party's KA private key can decrypt them. The
 * response carries the ESME's clock in its header.
 */
export function ecs17bRespond(device: DeviceRecord, command: Uint8Array, routing: Routing, reader: Eui, keys: GbcsKeys, now: Date): Uint8Array {
  const received = receiveCommand(device, command, keys);
  const response = buildProtectedAttributesResponse(
    received.apdu,
    importRegisters(device, now),
    { deviceKaPrivateKey: keys.deviceKa(device.eui)!.privateKey, remoteKaPublicKey: keys.remotePartyKaPublicKey(reader) },
    { dateTime: encodeDlmsDateTime(now), ...supplementaryFields(routing) },
  );
  return macResponse(device, response, routing, keys);
}
