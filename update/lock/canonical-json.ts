/**
 * Canonical JSON as TUF signs it (OLPC canonical JSON): object keys sorted,
 * no whitespace, only `\` and `"` escaped in strings, integers only.
 *
 * Keys are sorted by UTF-16 code units, which equals byte order only for
 * ASCII keys, and every key this module signs is ASCII.
 */

/** Raised when a value has no canonical form (float, non-finite, undefined, function). */
export class CanonicalJsonError extends Error {
  constructor(readonly path: string, readonly reason: string) {
    super(`Cannot encode ${path} as canonical JSON: ${reason}`);
    this.name = "CanonicalJsonError";
  }
}

/** Encodes `value` as canonical JSON text. */
export function canonicalJson(value: unknown): string {
  return encode(value, "$");
}

/** Encodes `value` as canonical JSON in UTF-8, the bytes that are signed. */
export function canonicalBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalJson(value));
}

function encode(value: unknown, path: string): string {
  if (value === null) {
    return "null";
  }

  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "number":
      return encodeNumber(value, path);
    case "string":
      return encodeString(value);
    case "object":
      return Array.isArray(value) ? encodeArray(value, path) : encodeObject(value as Record<string, unknown>, path);
    default:
      throw new CanonicalJsonError(path, `type ${typeof value} is not JSON`);
  }
}

function encodeNumber(value: number, path: string): string {
  // Canonical JSON has no floats, and integers beyond 2^53 - 1 lose precision in JavaScript.
  if (!Number.isSafeInteger(value)) {
    throw new CanonicalJsonError(path, `${value} is not a safe integer`);
  }

  return String(value);
}

function encodeString(value: string): string {
  return `"${value.replace(/[\\"]/g, (character) => `\\${character}`)}"`;
}

function encodeArray(values: unknown[], path: string): string {
  return `[${values.map((item, index) => encode(item, `${path}[${index}]`)).join(",")}]`;
}

function encodeObject(value: Record<string, unknown>, path: string): string {
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) {
    throw new CanonicalJsonError(path, "only plain objects can be encoded");
  }

  const members = Object.keys(value)
    .sort()
    .map((key) => `${encodeString(key)}:${encode(value[key], `${path}.${key}`)}`);
  return `{${members.join(",")}}`;
}
