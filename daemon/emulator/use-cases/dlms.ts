import type { CosemDescriptor, DlmsData } from "../../gbcs/index.ts";

/** Shorthands for the DLMS values and COSEM references the use cases write. */

/** A COSEM reference from an interface class, an OBIS code in hex (12 digits) and an attribute or method index. */
export function cosem(classId: number, obisHex: string, index: number): CosemDescriptor {
  return { classId, instanceId: Buffer.from(obisHex, "hex"), index };
}

export const nullData: DlmsData = { type: "null-data" };

export function octets(value: Uint8Array | string): DlmsData {
  return { type: "octet-string", value: typeof value === "string" ? Buffer.from(value, "hex") : value };
}

export function enumeration(value: number): DlmsData {
  return { type: "enum", value };
}

export function structure(...items: DlmsData[]): DlmsData {
  return { type: "structure", items };
}

export function array(...items: DlmsData[]): DlmsData {
  return { type: "array", items };
}

/**
 * A COSEM date-time with every field "not specified" (deviation 0x8000): the
 * GBCS value for "no execution time", which cancels a future-dated command.
 */
export const UNSPECIFIED_DATE_TIME = Buffer.from("FFFFFFFFFFFFFFFFFF8000FF", "hex");

/** A COSEM date-time of all zeros (deviation 0x8000): the GBCS execution time "now". */
export const IMMEDIATE_DATE_TIME = Buffer.from("0000000000000000008000FF", "hex");

/** DUIS writes this ExecutionDateTime to cancel a future-dated request. */
export const DUIS_CANCELLATION_DATE_TIME = Date.UTC(3000, 11, 31);
