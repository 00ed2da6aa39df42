import { ByteReader, concatBytes, encodeBerLength, encodeUint64 } from "../bytes.ts";
import { GbcsUsageError } from "../errors.ts";
import { DataTag, MAX_DATA_DEPTH } from "./constants.ts";

/** Integer types up to 32 bits, carried as a JavaScript number. */
export type SmallIntegerType =
  | "boolean"
  | "bcd"
  | "integer"
  | "long"
  | "unsigned"
  | "long-unsigned"
  | "double-long"
  | "double-long-unsigned"
  | "enum"
  | "delta-integer"
  | "delta-long"
  | "delta-double-long"
  | "delta-unsigned"
  | "delta-long-unsigned"
  | "delta-double-long-unsigned";

/** Types of a fixed byte size that are carried as raw bytes. */
export type FixedBytesType = "float32" | "float64" | "date-time" | "date" | "time";

/** A value of the DLMS `Data` CHOICE, A-XDR encoded (tag byte, then the value). */
export type DlmsData =
  | { type: "null-data" }
  | { type: "dont-care" }
  | { type: "array"; items: DlmsData[] }
  | { type: "structure"; items: DlmsData[] }
  | { type: "octet-string" | "visible-string" | "utf8-string"; value: Uint8Array }
  | { type: "bit-string"; bitLength: number; value: Uint8Array }
  | { type: SmallIntegerType; value: number }
  | { type: "long64" | "long64-unsigned"; value: bigint }
  | { type: FixedBytesType; value: Uint8Array }
  /** Compact array with its type description and contents kept as encoded. */
  | { type: "compact-array"; typeDescription: Uint8Array; contents: Uint8Array };

/** Byte size, signedness and tag of the integer types. */
const SMALL_INTEGERS: Record<SmallIntegerType, { tag: number; size: 1 | 2 | 4; signed: boolean }> = {
  boolean: { tag: DataTag.boolean, size: 1, signed: false },
  bcd: { tag: DataTag.bcd, size: 1, signed: false },
  integer: { tag: DataTag.integer, size: 1, signed: true },
  long: { tag: DataTag.long, size: 2, signed: true },
  unsigned: { tag: DataTag.unsigned, size: 1, signed: false },
  "long-unsigned": { tag: DataTag.longUnsigned, size: 2, signed: false },
  "double-long": { tag: DataTag.doubleLong, size: 4, signed: true },
  "double-long-unsigned": { tag: DataTag.doubleLongUnsigned, size: 4, signed: false },
  enum: { tag: DataTag.enum, size: 1, signed: false },
  "delta-integer": { tag: DataTag.deltaInteger, size: 1, signed: true },
  "delta-long": { tag: DataTag.deltaLong, size: 2, signed: true },
  "delta-double-long": { tag: DataTag.deltaDoubleLong, size: 4, signed: true },
  "delta-unsigned": { tag: DataTag.deltaUnsigned, size: 1, signed: false },
  "delta-long-unsigned": { tag: DataTag.deltaLongUnsigned, size: 2, signed: false },
  "delta-double-long-unsigned": { tag: DataTag.deltaDoubleLongUnsigned, size: 4, signed: false },
};

const FIXED_BYTES: Record<FixedBytesType, { tag: number; size: number }> = {
  float32: { tag: DataTag.float32, size: 4 },
  float64: { tag: DataTag.float64, size: 8 },
  "date-time": { tag: DataTag.dateTime, size: 12 },
  date: { tag: DataTag.date, size: 5 },
  time: { tag: DataTag.time, size: 4 },
};

const STRING_TAGS = {
  "octet-string": DataTag.octetString,
  "visible-string": DataTag.visibleString,
  "utf8-string": DataTag.utf8String,
} as const;

const BY_TAG = new Map<number, DlmsData["type"]>([
  [DataTag.nullData, "null-data"],
  [DataTag.dontCare, "dont-care"],
  [DataTag.array, "array"],
  [DataTag.structure, "structure"],
  [DataTag.bitString, "bit-string"],
  [DataTag.compactArray, "compact-array"],
  [DataTag.long64, "long64"],
  [DataTag.long64Unsigned, "long64-unsigned"],
  ...Object.entries(STRING_TAGS).map(([type, tag]) => [tag, type] as [number, DlmsData["type"]]),
  ...Object.entries(SMALL_INTEGERS).map(([type, spec]) => [spec.tag, type] as [number, DlmsData["type"]]),
  ...Object.entries(FIXED_BYTES).map(([type, spec]) => [spec.tag, type] as [number, DlmsData["type"]]),
]);

/** Reads one A-XDR `Data` value. */
export function readData(reader: ByteReader, depth = 0): DlmsData {
  const tag = reader.u8("data tag");
  const type = BY_TAG.get(tag);
  if (type === undefined) reader.fail("data tag", `0x${tag.toString(16)} is not a DLMS data type`);

  switch (type) {
    case "null-data":
    case "dont-care":
      return { type };

    case "array":
    case "structure": {
      if (depth >= MAX_DATA_DEPTH) reader.fail(type, `nesting deeper than MAX_DATA_DEPTH (${MAX_DATA_DEPTH})`);
      const count = reader.berLength(`${type} count`);
      const items: DlmsData[] = [];
      for (let i = 0; i < count; i++) items.push(readData(reader, depth + 1));
      return { type, items };
    }

    case "octet-string":
    case "visible-string":
    case "utf8-string":
      return { type, value: reader.lengthPrefixed(type) };

    case "bit-string": {
      const bitLength = reader.berLength("bit-string length");
      return { type, bitLength, value: reader.take(Math.ceil(bitLength / 8), "bit-string") };
    }

    case "long64":
    case "long64-unsigned": {
      const raw = reader.u64(type);
      return { type, value: type === "long64" ? BigInt.asIntN(64, raw) : raw };
    }

    case "compact-array": {
      const start = reader.offset;
      skipTypeDescription(reader, 0);
      const typeDescription = reader.bytes.subarray(start, reader.offset);
      return { type, typeDescription, contents: reader.lengthPrefixed("compact-array contents") };
    }

    default:
      if (type in FIXED_BYTES) {
        const fixed = FIXED_BYTES[type as FixedBytesType];
        return { type: type as FixedBytesType, value: reader.take(fixed.size, type) };
      }
      return { type: type as SmallIntegerType, value: readInteger(reader, SMALL_INTEGERS[type as SmallIntegerType], type) };
  }
}

/** Encodes one `Data` value with its tag. */
export function encodeData(data: DlmsData): Uint8Array {
  switch (data.type) {
    case "null-data":
      return Uint8Array.of(DataTag.nullData);
    case "dont-care":
      return Uint8Array.of(DataTag.dontCare);

    case "array":
    case "structure": {
      const tag = data.type === "array" ? DataTag.array : DataTag.structure;
      return concatBytes(Uint8Array.of(tag), encodeBerLength(data.items.length), ...data.items.map(encodeData));
    }

    case "octet-string":
    case "visible-string":
    case "utf8-string":
      return concatBytes(Uint8Array.of(STRING_TAGS[data.type]), encodeBerLength(data.value.length), data.value);

    case "bit-string":
      if (data.value.length !== Math.ceil(data.bitLength / 8)) {
        throw new GbcsUsageError("bit-string", `${data.bitLength} bits need ${Math.ceil(data.bitLength / 8)} bytes, got ${data.value.length}`);
      }
      return concatBytes(Uint8Array.of(DataTag.bitString), encodeBerLength(data.bitLength), data.value);

    case "long64":
    case "long64-unsigned": {
      const tag = data.type === "long64" ? DataTag.long64 : DataTag.long64Unsigned;
      const raw = data.type === "long64" ? BigInt.asUintN(64, data.value) : data.value;
      return concatBytes(Uint8Array.of(tag), encodeUint64(raw, data.type));
    }

    case "compact-array":
      return concatBytes(
        Uint8Array.of(DataTag.compactArray),
        data.typeDescription,
        encodeBerLength(data.contents.length),
        data.contents,
      );

    case "float32":
    case "float64":
    case "date-time":
    case "date":
    case "time": {
      const fixed = FIXED_BYTES[data.type];
      if (data.value.length !== fixed.size) {
        throw new GbcsUsageError(data.type, `expected ${fixed.size} bytes, got ${data.value.length}`);
      }
      return concatBytes(Uint8Array.of(fixed.tag), data.value);
    }

    default:
      return encodeInteger(data.type, data.value);
  }
}

/** Returns the Data value for a small integer type, checked against its range. */
function encodeInteger(type: SmallIntegerType, value: number): Uint8Array {
  const spec = SMALL_INTEGERS[type];
  const bits = spec.size * 8;
  const min = spec.signed ? -(2 ** (bits - 1)) : 0;
  const max = spec.signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new GbcsUsageError(type, `${value} is outside ${min}..${max}`);
  }

  const out = new Uint8Array(1 + spec.size);
  out[0] = spec.tag;
  let rest = value < 0 ? value + 2 ** bits : value;
  for (let i = spec.size; i >= 1; i--) {
    out[i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
  return out;
}

function readInteger(reader: ByteReader, spec: { size: 1 | 2 | 4; signed: boolean }, field: string): number {
  const bytes = reader.take(spec.size, field);
  let value = 0;
  for (const byte of bytes) value = value * 256 + byte;

  const bits = spec.size * 8;
  if (spec.signed && value >= 2 ** (bits - 1)) value -= 2 ** bits;
  return value;
}

/** Skips a compact-array type description: a tag, and for arrays and structures the element types. */
function skipTypeDescription(reader: ByteReader, depth: number): void {
  if (depth >= MAX_DATA_DEPTH) reader.fail("type description", `nesting deeper than MAX_DATA_DEPTH (${MAX_DATA_DEPTH})`);

  const tag = reader.u8("type description tag");
  if (tag === DataTag.array) {
    reader.u16("type description array count");
    skipTypeDescription(reader, depth + 1);
    return;
  }
  if (tag === DataTag.structure) {
    const count = reader.berLength("type description structure count");
    for (let i = 0; i < count; i++) skipTypeDescription(reader, depth + 1);
  }
}

/** Decodes one `Data` value that fills `bytes` exactly. */
export function decodeData(bytes: Uint8Array, base = 0): DlmsData {
  const reader: ByteReader = new ByteReader(bytes, "DLMS data", base);
  const data = readData(reader);
  reader.end();
  return data;
}
