/**
 * A small DER encoder and reader (ITU-T X.690), enough to build the fixed
 * device certificate profile and to read the few fields of the issuer
 * certificate that the profile copies. Everything else about certificates
 * (signature checks, key matching, text output) goes through node:crypto.
 */

/** Universal and context-specific tag octets used by the certificate profile. */
export const Tag = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  objectIdentifier: 0x06,
  printableString: 0x13,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;

/** Returns the tag octet of a context-specific field `[number]`. */
export function contextTag(number: number, constructed: boolean): number {
  if (number < 0 || number > 30) {
    throw new RangeError(`Context tag number ${number} is invalid: only 0 to 30 fit in one octet.`);
  }

  return 0x80 | (constructed ? 0x20 : 0) | number;
}

function encodeLength(length: number): Uint8Array {
  if (length < 0x80) {
    return Uint8Array.of(length);
  }

  const octets: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) {
    octets.unshift(rest % 256);
  }
  return Uint8Array.of(0x80 | octets.length, ...octets);
}

/** Encodes one TLV: tag octet, definite length, then `content`. */
export function tlv(tag: number, content: Uint8Array): Uint8Array {
  return concatBytes([Uint8Array.of(tag), encodeLength(content.length), content]);
}

/** Encodes a SEQUENCE, or another constructed tag, over already encoded children. */
export function constructed(tag: number, children: Uint8Array[]): Uint8Array {
  return tlv(tag, concatBytes(children));
}

export function sequence(children: Uint8Array[]): Uint8Array {
  return constructed(Tag.sequence, children);
}

export function booleanTrue(): Uint8Array {
  return tlv(Tag.boolean, Uint8Array.of(0xff));
}

/** Encodes a non-negative INTEGER in the fewest octets, with a 0x00 octet when the top bit is set. */
export function unsignedInteger(value: bigint): Uint8Array {
  if (value < 0n) {
    throw new RangeError(`INTEGER ${value} is negative; only non-negative values are encoded here.`);
  }

  let hex = value.toString(16);
  if (hex.length % 2 === 1) {
    hex = `0${hex}`;
  }
  let content = Buffer.from(hex, "hex");
  if ((content[0] ?? 0) & 0x80) {
    content = Buffer.concat([Buffer.of(0), content]);
  }
  return tlv(Tag.integer, content);
}

/** Encodes an OBJECT IDENTIFIER given in dotted form, such as `1.3.6.1.5.5.7.8.4`. */
export function objectIdentifier(dotted: string): Uint8Array {
  const arcs = dotted.split(".").map((arc) => {
    if (!/^\d+$/.test(arc)) {
      throw new RangeError(`OID ${dotted} is invalid: arc "${arc}" is not a decimal number.`);
    }
    return BigInt(arc);
  });
  const [first, second, ...rest] = arcs;
  if (first === undefined || second === undefined || first > 2n || (first < 2n && second > 39n)) {
    throw new RangeError(`OID ${dotted} is invalid: it needs two leading arcs, the first 0, 1 or 2.`);
  }

  const octets: number[] = [];
  for (const arc of [first * 40n + second, ...rest]) {
    const base128: number[] = [Number(arc & 0x7fn)];
    for (let high = arc >> 7n; high > 0n; high >>= 7n) {
      base128.unshift(Number(high & 0x7fn) | 0x80);
    }
    octets.push(...base128);
  }
  return tlv(Tag.objectIdentifier, Uint8Array.from(octets));
}

export function octetString(content: Uint8Array): Uint8Array {
  return tlv(Tag.octetString, content);
}

/** Encodes a BIT STRING whose bit count is a multiple of 8 (no unused bits). */
export function bitStringOfBytes(content: Uint8Array): Uint8Array {
  return tlv(Tag.bitString, concatBytes([Uint8Array.of(0), content]));
}

/**
 * Encodes a named-bit BIT STRING such as keyUsage with one bit set. DER drops
 * trailing zero bits, so bit `n` gives one content octet and `7 - n % 8` unused bits.
 */
export function namedBitString(bit: number): Uint8Array {
  if (!Number.isInteger(bit) || bit < 0 || bit > 7) {
    throw new RangeError(`Named bit ${bit} is out of range 0 to 7.`);
  }

  return tlv(Tag.bitString, Uint8Array.of(7 - bit, 0x80 >> bit));
}

/**
 * Encodes a certificate Time (RFC 5280 4.1.2.5): UTCTime for the years 1950 to
 * 2049, GeneralizedTime from 2050 on, always in seconds with `Z`.
 */
export function time(date: Date): Uint8Array {
  const year = date.getUTCFullYear();
  if (year < 1950 || year > 9999) {
    throw new RangeError(`Certificate time ${date.toISOString()} is outside the years 1950 to 9999.`);
  }

  const pad = (value: number) => String(value).padStart(2, "0");
  const rest =
    pad(date.getUTCMonth() + 1) +
    pad(date.getUTCDate()) +
    pad(date.getUTCHours()) +
    pad(date.getUTCMinutes()) +
    pad(date.getUTCSeconds()) +
    "Z";
  if (year < 2050) {
    return tlv(Tag.utcTime, Buffer.from(pad(year % 100) + rest, "ascii"));
  }
  return tlv(Tag.generalizedTime, Buffer.from(String(year) + rest, "ascii"));
}

export function concatBytes(parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

/** One decoded TLV: `encoded` is the whole element, `content` its value octets. */
export interface DerElement {
  tag: number;
  content: Uint8Array;
  encoded: Uint8Array;
}

/** Raised when bytes do not follow DER as far as this reader checks. */
export class DerDecodeError extends Error {
  override readonly name = "DerDecodeError";

  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`Invalid DER at offset ${offset}: ${reason}.`);
  }
}

/** Decodes the element that starts at `offset` of `bytes`. Only one-octet tags occur in certificates. */
export function readElement(bytes: Uint8Array, offset = 0): DerElement {
  const tag = bytes[offset];
  const first = bytes[offset + 1];
  if (tag === undefined || first === undefined) {
    throw new DerDecodeError(offset, "the element header is truncated");
  }
  if ((tag & 0x1f) === 0x1f) {
    throw new DerDecodeError(offset, "multi-octet tags are not supported");
  }

  let length = first;
  let headerLength = 2;
  if (first & 0x80) {
    const count = first & 0x7f;
    if (count === 0 || count > 4) {
      throw new DerDecodeError(offset, `a length of ${count} octets is not valid DER here`);
    }
    length = 0;
    for (let i = 0; i < count; i++) {
      const octet = bytes[offset + 2 + i];
      if (octet === undefined) {
        throw new DerDecodeError(offset, "the length octets are truncated");
      }
      length = length * 256 + octet;
    }
    headerLength += count;
  }

  const end = offset + headerLength + length;
  if (end > bytes.length) {
    throw new DerDecodeError(offset, `the element claims ${length} octets but only ${bytes.length - offset - headerLength} remain`);
  }
  return {
    tag,
    content: bytes.subarray(offset + headerLength, end),
    encoded: bytes.subarray(offset, end),
  };
}

/** Decodes all elements inside the content of a constructed element. */
export function readChildren(parent: DerElement): DerElement[] {
  const children: DerElement[] = [];
  let offset = 0;
  while (offset < parent.content.length) {
    const child = readElement(parent.content, offset);
    children.push(child);
    offset += child.encoded.length;
  }
  return children;
}

/** Decodes the content octets of an OBJECT IDENTIFIER to dotted form. */
export function readObjectIdentifier(element: DerElement): string {
  if (element.tag !== Tag.objectIdentifier) {
    throw new DerDecodeError(0, `expected an OBJECT IDENTIFIER (tag 0x06), found tag 0x${element.tag.toString(16)}`);
  }

  const arcs: bigint[] = [];
  let value = 0n;
  for (const octet of element.content) {
    value = (value << 7n) | BigInt(octet & 0x7f);
    if ((octet & 0x80) === 0) {
      arcs.push(value);
      value = 0n;
    }
  }
  const [head, ...rest] = arcs;
  if (head === undefined) {
    throw new DerDecodeError(0, "the OBJECT IDENTIFIER is empty");
  }
  const first = head < 80n ? head / 40n : 2n;
  return [first, head - first * 40n, ...rest].join(".");
}
