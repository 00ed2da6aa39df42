import { GbcsDecodeError, GbcsUsageError } from "./errors.ts";

/**
 * Octets after the `0x80 | n` byte that a BER length may use. Two octets allow lengths up to 65,535 bytes,
 * more than any GBCS message carries, so a longer form is rejected as malformed.
 */
export const MAX_BER_LENGTH_OCTETS = 2;

/** Sequential reader over one structure; every read checks bounds and names the field on failure. */
export class ByteReader {
  private position = 0;
  /** Start of the field read last, so an error names where the bad field begins. */
  private fieldStart = 0;

  constructor(
    readonly bytes: Uint8Array,
    readonly structure: string,
    private readonly base = 0,
  ) {}

  get offset(): number {
    return this.position;
  }

  /** Offset of the next byte from the start of the whole message. */
  get absoluteOffset(): number {
    return this.base + this.position;
  }

  get remaining(): number {
    return this.bytes.length - this.position;
  }

  /** Raises a decode error at the start of the field read last. */
  fail(field: string, detail: string): never {
    throw new GbcsDecodeError(this.structure, field, this.base + this.fieldStart, detail);
  }

  u8(field: string): number {
    this.fieldStart = this.position;
    if (this.remaining < 1) this.fail(field, "missing, the data ends here");

    const value = this.bytes[this.position]!;
    this.position += 1;
    return value;
  }

  u16(field: string): number {
    const bytes = this.take(2, field);
    return (bytes[0]! << 8) | bytes[1]!;
  }

  u32(field: string): number {
    const bytes = this.take(4, field);
    return ((bytes[0]! << 24) >>> 0) + (bytes[1]! << 16) + (bytes[2]! << 8) + bytes[3]!;
  }

  u64(field: string): bigint {
    return readUint64(this.take(8, field));
  }

  /** Returns the next `length` bytes as a view into the input. */
  take(length: number, field: string): Uint8Array {
    this.fieldStart = this.position;
    if (length > this.remaining) {
      this.fail(field, `needs ${length} byte(s) but only ${this.remaining} remain`);
    }

    const view = this.bytes.subarray(this.position, this.position + length);
    this.position += length;
    return view;
  }

  peek(): number | undefined {
    return this.bytes[this.position];
  }

  /** Reads a BER definite length (X.690 8.1.3): short form below 0x80, else `0x80 | n` and n octets. */
  berLength(field: string): number {
    const start = this.position;
    const first = this.u8(field);
    if (first < 0x80) return first;

    const octets = first & 0x7f;
    if (octets === 0) this.fail(field, "indefinite length (0x80) is not allowed in GBCS");
    if (octets > MAX_BER_LENGTH_OCTETS) {
      this.fail(field, `length uses ${octets} octets, more than MAX_BER_LENGTH_OCTETS (${MAX_BER_LENGTH_OCTETS})`);
    }

    let length = 0;
    for (const octet of this.take(octets, field)) length = length * 256 + octet;
    this.fieldStart = start;
    return length;
  }

  /** Reads a BER length and then that many bytes. */
  lengthPrefixed(field: string): Uint8Array {
    const length = this.berLength(`${field} length`);
    return this.take(length, field);
  }

  /** Raises unless every byte was consumed. */
  end(): void {
    this.fieldStart = this.position;
    if (this.remaining !== 0) this.fail("end", `${this.remaining} unexpected trailing bytes`);
  }
}

/** Encodes a BER definite length in its shortest form (X.690 8.1.3). */
export function encodeBerLength(length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > 0xffff) {
    throw new GbcsUsageError("length", `${length} is outside 0..65535, the range of a GBCS BER length`);
  }

  if (length < 0x80) return Uint8Array.of(length);
  if (length <= 0xff) return Uint8Array.of(0x81, length);
  return Uint8Array.of(0x82, length >> 8, length & 0xff);
}

/** Prefixes `value` with its BER length. */
export function lengthPrefixed(value: Uint8Array): Uint8Array {
  return concatBytes(encodeBerLength(value.length), value);
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export function readUint64(bytes: Uint8Array): bigint {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return value;
}

/** Encodes an unsigned 64-bit integer big-endian, as GBCS counters are sent. */
export function encodeUint64(value: bigint, argument = "counter"): Uint8Array {
  if (value < 0n || value > 0xffff_ffff_ffff_ffffn) {
    throw new GbcsUsageError(argument, `${value} is outside the unsigned 64-bit range`);
  }

  const out = new Uint8Array(8);
  let rest = value;
  for (let i = 7; i >= 0; i--) {
    out[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return out;
}

export function encodeUint16(value: number, argument: string): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) {
    throw new GbcsUsageError(argument, `${value} is outside 0..65535`);
  }
  return Uint8Array.of(value >> 8, value & 0xff);
}

export function encodeUint32(value: number, argument: string): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new GbcsUsageError(argument, `${value} is outside the unsigned 32-bit range`);
  }
  return Uint8Array.of(value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff);
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex").toUpperCase();
}

/** Parses hex text; spaces, dashes and colons between octets are ignored. */
export function fromHex(text: string, argument = "hex"): Uint8Array {
  const clean = text.replace(/[\s:-]/g, "");
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) {
    throw new GbcsUsageError(argument, `"${text.slice(0, 40)}" is not an even number of hex digits`);
  }
  return new Uint8Array(Buffer.from(clean, "hex"));
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
