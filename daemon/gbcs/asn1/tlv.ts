import { ByteReader, concatBytes } from "../bytes.ts";
import { GbcsUsageError } from "../errors.ts";

/**
 * A generic ASN.1 TLV node (X.690 BER with definite lengths), the form of the CS security use-case payloads
 * (CS02, CS03, CS04, CS06 …). Constructed nodes carry children and primitive nodes carry their value bytes.
 */
export type TlvNode = (
  | { tagClass: TagClass; constructed: true; tagNumber: number; children: TlvNode[] }
  | { tagClass: TagClass; constructed: false; tagNumber: number; value: Uint8Array }
) & {
  /**
   * Octets of a long-form length when the sender used more than the shortest form, which is valid BER but not
   * DER. RTDS CS02 responses, for example, send `82 00 CA` for 202; the node keeps it to re-encode byte for byte.
   */
  lengthOctets?: number;
};

export type TagClass = "universal" | "application" | "context" | "private";

const CLASSES: readonly TagClass[] = ["universal", "application", "context", "private"];

/** Maximum nesting of constructed nodes the decoder follows; GBCS payloads nest well under this. */
export const MAX_TLV_DEPTH = 32;

/** Octets after the `0x80 | n` length byte; 3 allows 16 MiB, far above any GBCS payload. */
const MAX_LENGTH_OCTETS = 3;

/** Decodes a sequence of TLVs that fills `bytes` exactly. */
export function decodeTlv(bytes: Uint8Array, base = 0): TlvNode[] {
  const reader: ByteReader = new ByteReader(bytes, "ASN.1", base);
  const nodes: TlvNode[] = [];
  while (reader.remaining > 0) nodes.push(readNode(reader, 0));
  return nodes;
}

/** Encodes TLVs with definite lengths, in the shortest form unless a node records another. */
export function encodeTlv(nodes: readonly TlvNode[]): Uint8Array {
  return concatBytes(...nodes.map(encodeNode));
}

function readNode(reader: ByteReader, depth: number): TlvNode {
  if (depth >= MAX_TLV_DEPTH) reader.fail("nesting", `deeper than MAX_TLV_DEPTH (${MAX_TLV_DEPTH})`);

  const first = reader.u8("identifier");
  const tagClass = CLASSES[first >> 6]!;
  const constructed = (first & 0x20) !== 0;
  const tagNumber = (first & 0x1f) === 0x1f ? readHighTagNumber(reader) : first & 0x1f;

  const { length, lengthOctets } = readLength(reader);
  const valueOffset = reader.absoluteOffset;
  const value = reader.take(length, "value");

  let node: TlvNode;
  if (constructed) {
    const inner: ByteReader = new ByteReader(value, "ASN.1", valueOffset);
    const children: TlvNode[] = [];
    while (inner.remaining > 0) children.push(readNode(inner, depth + 1));
    node = { tagClass, constructed, tagNumber, children };
  } else {
    node = { tagClass, constructed, tagNumber, value };
  }

  if (lengthOctets !== undefined) node.lengthOctets = lengthOctets;
  return node;
}

/** Reads a tag number above 30: base-128 octets, high bit set on all but the last (X.690 8.1.2.4). */
function readHighTagNumber(reader: ByteReader): number {
  let tagNumber = 0;
  for (let i = 0; i < 4; i++) {
    const octet = reader.u8("tag number");
    if (i === 0 && octet === 0x80) reader.fail("tag number", "a leading 0x80 octet is not allowed (X.690 8.1.2.4.2)");

    tagNumber = tagNumber * 128 + (octet & 0x7f);
    if ((octet & 0x80) === 0) {
      if (tagNumber < 0x1f) reader.fail("tag number", `${tagNumber} must use the short form (X.690 8.1.2.2)`);
      return tagNumber;
    }
  }
  return reader.fail("tag number", "longer than 4 octets");
}

/**
 * Reads a definite length (X.690 8.1.3). `lengthOctets` is set only when the long form is longer than the
 * shortest encoding of the length.
 */
function readLength(reader: ByteReader): { length: number; lengthOctets?: number } {
  const first = reader.u8("length");
  if (first < 0x80) return { length: first };

  const octets = first & 0x7f;
  if (octets === 0) reader.fail("length", "indefinite length (0x80) is not allowed in GBCS");
  if (octets > MAX_LENGTH_OCTETS) {
    reader.fail("length", `uses ${octets} octets, more than ${MAX_LENGTH_OCTETS}`);
  }

  let length = 0;
  for (const octet of reader.take(octets, "length")) length = length * 256 + octet;
  return octets === shortestLengthOctets(length) ? { length } : { length, lengthOctets: octets };
}

/** Returns the long-form octet count DER uses for `length`, 0 for the short form. */
function shortestLengthOctets(length: number): number {
  let octets = 0;
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) octets++;
  return length < 0x80 ? 0 : octets;
}

function encodeNode(node: TlvNode): Uint8Array {
  const classBits = CLASSES.indexOf(node.tagClass) << 6;
  const constructedBit = node.constructed ? 0x20 : 0;
  const value = node.constructed ? encodeTlv(node.children) : node.value;

  return concatBytes(
    encodeIdentifier(classBits | constructedBit, node.tagNumber),
    encodeLength(value.length, node.lengthOctets),
    value,
  );
}

function encodeIdentifier(leading: number, tagNumber: number): Uint8Array {
  if (!Number.isInteger(tagNumber) || tagNumber < 0 || tagNumber >= 2 ** 28) {
    throw new GbcsUsageError("tagNumber", `${tagNumber} is outside 0..2^28-1`);
  }
  if (tagNumber < 0x1f) return Uint8Array.of(leading | tagNumber);

  const octets: number[] = [tagNumber & 0x7f];
  for (let rest = Math.floor(tagNumber / 128); rest > 0; rest = Math.floor(rest / 128)) {
    octets.unshift((rest & 0x7f) | 0x80);
  }
  return Uint8Array.of(leading | 0x1f, ...octets);
}

function encodeLength(length: number, lengthOctets: number | undefined): Uint8Array {
  const shortest = shortestLengthOctets(length);
  const octetCount = lengthOctets ?? shortest;
  if (octetCount < shortest || octetCount > MAX_LENGTH_OCTETS) {
    throw new GbcsUsageError("lengthOctets", `${octetCount} octets cannot carry length ${length}`);
  }
  if (octetCount === 0) return Uint8Array.of(length);

  const octets: number[] = [];
  for (let i = 0, rest = length; i < octetCount; i++, rest = Math.floor(rest / 256)) octets.unshift(rest & 0xff);
  return Uint8Array.of(0x80 | octetCount, ...octets);
}
