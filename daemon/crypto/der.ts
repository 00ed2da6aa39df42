/**
 * A minimal DER reader: enough to walk an X.509 TBSCertificate and read the
 * attributes of a Name. It never allocates more than views of the input.
 */
export interface DerNode {
  tag: number;
  /** The content octets. */
  value: Uint8Array;
  /** Offset of the byte after this node in the buffer it was read from. */
  end: number;
}

/** Reads one DER node at `offset`; throws on a truncated or indefinite length. */
export function readDer(bytes: Uint8Array, offset = 0): DerNode {
  if (offset + 2 > bytes.length) throw new RangeError(`DER node at offset ${offset} is truncated`);

  const tag = bytes[offset]!;
  let length = bytes[offset + 1]!;
  let cursor = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4) throw new RangeError(`DER length at offset ${offset} uses ${count} octets; 1 to 4 are supported`);
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + bytes[cursor + i]!;
    cursor += count;
  }

  const end = cursor + length;
  if (end > bytes.length) throw new RangeError(`DER node at offset ${offset} runs past the end of the input`);
  return { tag, value: bytes.subarray(cursor, end), end };
}

/** Returns the children of a constructed node. */
export function derChildren(node: DerNode): DerNode[] {
  const children: DerNode[] = [];
  let offset = 0;
  while (offset < node.value.length) {
    const child = readDer(node.value, offset);
    children.push(child);
    offset = child.end;
  }
  return children;
}

/** Encodes an OID body (without tag and length) as dotted text. */
export function oidToString(bytes: Uint8Array): string {
  const parts = [Math.floor(bytes[0]! / 40), bytes[0]! % 40];
  let value = 0;
  for (let i = 1; i < bytes.length; i++) {
    value = value * 128 + (bytes[i]! & 0x7f);
    if (!(bytes[i]! & 0x80)) {
      parts.push(value);
      value = 0;
    }
  }
  return parts.join(".");
}

/** One attribute of an X.509 Name, with its value octets as found (tag stripped). */
export interface NameAttribute {
  oid: string;
  tag: number;
  value: Uint8Array;
}

/** Reads the issuer and subject Names of a DER certificate. */
export function certificateNames(der: Uint8Array): { issuer: NameAttribute[]; subject: NameAttribute[] } {
  const certificate = readDer(der);
  const tbs = derChildren(certificate)[0]!;
  const fields = derChildren(tbs);

  // TBSCertificate: [0] version (optional), serial, signature, issuer, validity, subject, ...
  const first = fields[0]!.tag === 0xa0 ? 1 : 0;
  return { issuer: nameAttributes(fields[first + 2]!), subject: nameAttributes(fields[first + 4]!) };
}

function nameAttributes(name: DerNode): NameAttribute[] {
  const attributes: NameAttribute[] = [];
  for (const set of derChildren(name)) {
    for (const pair of derChildren(set)) {
      const [oid, value] = derChildren(pair);
      attributes.push({ oid: oidToString(oid!.value), tag: value!.tag, value: value!.value });
    }
  }
  return attributes;
}
