import { ByteReader, concatBytes, encodeBerLength, encodeUint16, encodeUint32 } from "../bytes.ts";
import { GbcsUsageError } from "../errors.ts";
import { AccessRequestKind, AccessResponseKind, DlmsApduTag, INVOKE_ID_HIGH_BYTE, OBIS_LENGTH } from "./constants.ts";
import { type DlmsData, encodeData, readData } from "./data.ts";

/** COSEM attribute or method reference: interface class, OBIS instance and attribute or method index. */
export interface CosemDescriptor {
  classId: number;
  /** Logical name (OBIS code), 6 bytes. */
  instanceId: Uint8Array;
  /** Attribute index for get and set, method index for action; DLMS Integer8. */
  index: number;
}

/** One entry of the access-request-specification list. */
export type AccessRequestSpecification =
  | { kind: "get" | "set" | "action"; descriptor: CosemDescriptor }
  | {
      kind: "get-with-selection" | "set-with-selection";
      descriptor: CosemDescriptor;
      accessSelector: number;
      accessParameters: DlmsData;
    };

/** One entry of the access-response-specification list, with its Data-Access-Result or Action-Result. */
export interface AccessResponseSpecification {
  kind: "get" | "set" | "action";
  result: number;
}

interface DlmsHeader {
  /** Long-invoke-id-and-priority; GBCS puts the low 24 bits of the originator counter in the invoke id. */
  invokeIdAndPriority: number;
  /** DLMS date-time (12 bytes), or undefined when the octet-string is empty. */
  dateTime: Uint8Array | undefined;
}

/** xDLMS Access-Request (tag D9): the request specifications and one data item per specification. */
export interface AccessRequest extends DlmsHeader {
  apdu: "access-request";
  specifications: AccessRequestSpecification[];
  data: DlmsData[];
}

/** xDLMS Access-Response (tag DA). */
export interface AccessResponse extends DlmsHeader {
  apdu: "access-response";
  /** The optional echo of the request specifications, absent in GBCS responses seen so far. */
  requestSpecifications: AccessRequestSpecification[] | undefined;
  data: DlmsData[];
  results: AccessResponseSpecification[];
}

/** xDLMS Data-Notification (tag 0F), the DLMS body of a GBCS alert. */
export interface DataNotification extends DlmsHeader {
  apdu: "data-notification";
  body: DlmsData;
}

export type DlmsApdu = AccessRequest | AccessResponse | DataNotification;

const REQUEST_KINDS: Record<number, AccessRequestSpecification["kind"]> = {
  [AccessRequestKind.get]: "get",
  [AccessRequestKind.set]: "set",
  [AccessRequestKind.action]: "action",
  [AccessRequestKind.getWithSelection]: "get-with-selection",
  [AccessRequestKind.setWithSelection]: "set-with-selection",
};

const RESPONSE_KINDS: Record<number, AccessResponseSpecification["kind"]> = {
  [AccessResponseKind.get]: "get",
  [AccessResponseKind.set]: "set",
  [AccessResponseKind.action]: "action",
};

const DATE_TIME_LENGTH = 12;

/** Returns the long-invoke-id-and-priority GBCS uses for a message with this originator counter. */
export function invokeIdFor(originatorCounter: bigint): number {
  return ((INVOKE_ID_HIGH_BYTE << 24) | Number(originatorCounter & 0xff_ffffn)) >>> 0;
}

/** Decodes an Access-Request, Access-Response or Data-Notification that fills `bytes` exactly. */
export function decodeDlmsApdu(bytes: Uint8Array, base = 0): DlmsApdu {
  const reader: ByteReader = new ByteReader(bytes, "DLMS APDU", base);
  const tag = reader.u8("tag");

  const invokeIdAndPriority = reader.u32("long-invoke-id-and-priority");
  const dateTime = readDateTime(reader);

  let apdu: DlmsApdu;
  switch (tag) {
    case DlmsApduTag.accessRequest: {
      const specifications = readList(reader, "access-request-specification", readRequestSpecification);
      const data = readList(reader, "access-request-list-of-data", (r) => readData(r));
      apdu = { apdu: "access-request", invokeIdAndPriority, dateTime, specifications, data };
      break;
    }

    case DlmsApduTag.accessResponse: {
      const present = reader.u8("access-request-specification presence");
      if (present > 1) reader.fail("access-request-specification presence", `expected 0 or 1, got ${present}`);
      const requestSpecifications =
        present === 1 ? readList(reader, "access-request-specification", readRequestSpecification) : undefined;
      const data = readList(reader, "access-response-list-of-data", (r) => readData(r));
      const results = readList(reader, "access-response-specification", readResponseSpecification);
      apdu = { apdu: "access-response", invokeIdAndPriority, dateTime, requestSpecifications, data, results };
      break;
    }

    case DlmsApduTag.dataNotification:
      apdu = { apdu: "data-notification", invokeIdAndPriority, dateTime, body: readData(reader) };
      break;

    default:
      reader.fail("tag", `0x${tag.toString(16)} is not D9 (Access-Request), DA (Access-Response) or 0F (Data-Notification)`);
  }

  reader.end();
  return apdu;
}

export function encodeDlmsApdu(apdu: DlmsApdu): Uint8Array {
  const header = encodeHeader(apdu);

  switch (apdu.apdu) {
    case "access-request":
      return concatBytes(
        Uint8Array.of(DlmsApduTag.accessRequest),
        header,
        encodeList(apdu.specifications, encodeRequestSpecification),
        encodeList(apdu.data, encodeData),
      );

    case "access-response":
      return concatBytes(
        Uint8Array.of(DlmsApduTag.accessResponse),
        header,
        apdu.requestSpecifications === undefined
          ? Uint8Array.of(0)
          : concatBytes(Uint8Array.of(1), encodeList(apdu.requestSpecifications, encodeRequestSpecification)),
        encodeList(apdu.data, encodeData),
        encodeList(apdu.results, encodeResponseSpecification),
      );

    case "data-notification":
      return concatBytes(Uint8Array.of(DlmsApduTag.dataNotification), header, encodeData(apdu.body));
  }
}

function readDateTime(reader: ByteReader): Uint8Array | undefined {
  const length = reader.u8("date-time length");
  if (length === 0) return undefined;
  if (length !== DATE_TIME_LENGTH) reader.fail("date-time length", `expected 0 or 12, got ${length}`);
  return reader.take(DATE_TIME_LENGTH, "date-time");
}

function encodeHeader(apdu: DlmsHeader): Uint8Array {
  const id = apdu.invokeIdAndPriority;
  if (apdu.dateTime !== undefined && apdu.dateTime.length !== DATE_TIME_LENGTH) {
    throw new GbcsUsageError("dateTime", `expected 12 bytes, got ${apdu.dateTime.length}`);
  }

  return concatBytes(
    encodeUint32(id, "invokeIdAndPriority"),
    apdu.dateTime === undefined ? Uint8Array.of(0) : concatBytes(Uint8Array.of(DATE_TIME_LENGTH), apdu.dateTime),
  );
}

function readList<T>(reader: ByteReader, field: string, readItem: (reader: ByteReader) => T): T[] {
  const count = reader.berLength(`${field} count`);
  const items: T[] = [];
  for (let i = 0; i < count; i++) items.push(readItem(reader));
  return items;
}

function encodeList<T>(items: readonly T[], encodeItem: (item: T) => Uint8Array): Uint8Array {
  return concatBytes(encodeBerLength(items.length), ...items.map(encodeItem));
}

function readDescriptor(reader: ByteReader): CosemDescriptor {
  const classId = reader.u16("class-id");
  const instanceId = reader.take(OBIS_LENGTH, "instance-id");
  const index = (reader.u8("attribute or method id") << 24) >> 24;
  return { classId, instanceId, index };
}

function encodeDescriptor(descriptor: CosemDescriptor): Uint8Array {
  if (descriptor.instanceId.length !== OBIS_LENGTH) {
    throw new GbcsUsageError("instanceId", `expected a 6-byte OBIS code, got ${descriptor.instanceId.length} bytes`);
  }
  if (!Number.isInteger(descriptor.index) || descriptor.index < -128 || descriptor.index > 127) {
    throw new GbcsUsageError("index", `${descriptor.index} is outside Integer8 (-128..127)`);
  }
  return concatBytes(encodeUint16(descriptor.classId, "classId"), descriptor.instanceId, Uint8Array.of(descriptor.index & 0xff));
}

function readRequestSpecification(reader: ByteReader): AccessRequestSpecification {
  const choice = reader.u8("access-request-specification choice");
  const kind = REQUEST_KINDS[choice];
  if (kind === undefined) reader.fail("access-request-specification choice", `expected 1..5, got ${choice}`);

  const descriptor = readDescriptor(reader);
  if (kind === "get-with-selection" || kind === "set-with-selection") {
    const accessSelector = reader.u8("access-selector");
    return { kind, descriptor, accessSelector, accessParameters: readData(reader) };
  }
  return { kind, descriptor };
}

function encodeRequestSpecification(specification: AccessRequestSpecification): Uint8Array {
  const choice = Number(Object.entries(REQUEST_KINDS).find(([, kind]) => kind === specification.kind)![0]);
  const head = concatBytes(Uint8Array.of(choice), encodeDescriptor(specification.descriptor));

  if (specification.kind === "get-with-selection" || specification.kind === "set-with-selection") {
    return concatBytes(head, Uint8Array.of(specification.accessSelector), encodeData(specification.accessParameters));
  }
  return head;
}

function readResponseSpecification(reader: ByteReader): AccessResponseSpecification {
  const choice = reader.u8("access-response-specification choice");
  const kind = RESPONSE_KINDS[choice];
  if (kind === undefined) reader.fail("access-response-specification choice", `expected 1..3, got ${choice}`);
  return { kind, result: reader.u8("result") };
}

function encodeResponseSpecification(specification: AccessResponseSpecification): Uint8Array {
  const choice = Number(Object.entries(RESPONSE_KINDS).find(([, kind]) => kind === specification.kind)![0]);
  return Uint8Array.of(choice, specification.result);
}
