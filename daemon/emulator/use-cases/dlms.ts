import {
  encodeDlmsApdu,
  invokeIdFor,
  type AccessRequestSpecification,
  type AccessResponseSpecification,
  type CosemDescriptor,
  type DlmsData,
} from "../../gbcs/index.ts";

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

/** Encodes an xDLMS Access-Request (tag D9) for the GBCS command with this originator counter. */
export function accessRequest(counter: bigint, specifications: AccessRequestSpecification[], data: DlmsData[]): Uint8Array {
  return encodeDlmsApdu({ apdu: "access-request", invokeIdAndPriority: invokeIdFor(counter), dateTime: undefined, specifications, data });
}

/** Encodes an xDLMS Access-Response (tag DA) answering the command with this originator counter. */
export function accessResponse(counter: bigint, data: DlmsData[], results: AccessResponseSpecification[]): Uint8Array {
  return encodeDlmsApdu({
    apdu: "access-response",
    invokeIdAndPriority: invokeIdFor(counter),
    dateTime: undefined,
    requestSpecifications: undefined,
    data,
    results,
  });
}

/** Returns `count` results of one kind, all success (Data-Access-Result and Action-Result 0). */
export function successes(kind: AccessResponseSpecification["kind"], count: number): AccessResponseSpecification[] {
  return Array.from({ length: count }, () => ({ kind, result: 0 }));
}
