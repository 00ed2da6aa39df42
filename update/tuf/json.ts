/**
 * Strict JSON parsing and OLPC canonical JSON, the two encodings TUF
 * signatures depend on.
 *
 * `JSON.parse` keeps the last of two equal keys, so an attacker could hide a
 * second `"version"` that the signature never covered. This parser rejects
 * duplicate keys, floats, exponents and integers outside the safe range,
 * because canonical JSON cannot encode them and so no signature covers them.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** A parse failure with the byte offset where it was found. */
export class JsonSyntaxError extends Error {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`${reason} at offset ${offset}`);
  }
}

/** Parses UTF-8 JSON text; throws JsonSyntaxError on duplicate keys, non-integers and unsafe integers. */
export function parseStrictJson(bytes: Uint8Array): JsonValue {
  const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  const parser = new StrictParser(text);
  const value = parser.value();
  parser.skipWhitespace();
  if (!parser.atEnd()) {
    throw new JsonSyntaxError(parser.position, "unexpected text after the JSON value");
  }
  return value;
}

class StrictParser {
  position = 0;

  constructor(private readonly text: string) {}

  atEnd(): boolean {
    return this.position >= this.text.length;
  }

  skipWhitespace(): void {
    while (!this.atEnd() && " \t\n\r".includes(this.text[this.position] as string)) {
      this.position += 1;
    }
  }

  value(): JsonValue {
    this.skipWhitespace();
    const char = this.text[this.position];
    if (char === "{") return this.object();
    if (char === "[") return this.array();
    if (char === '"') return this.string();
    if (char === "-" || (char !== undefined && char >= "0" && char <= "9")) return this.integer();
    if (this.text.startsWith("true", this.position)) return this.literal("true", true);
    if (this.text.startsWith("false", this.position)) return this.literal("false", false);
    if (this.text.startsWith("null", this.position)) return this.literal("null", null);
    throw new JsonSyntaxError(this.position, "unexpected character");
  }

  private literal<T>(word: string, value: T): T {
    this.position += word.length;
    return value;
  }

  private expect(char: string): void {
    this.skipWhitespace();
    if (this.text[this.position] !== char) {
      throw new JsonSyntaxError(this.position, `expected "${char}"`);
    }
    this.position += 1;
  }

  private object(): JsonObject {
    this.expect("{");
    const result: JsonObject = {};
    const seen = new Set<string>();
    this.skipWhitespace();
    if (this.text[this.position] === "}") {
      this.position += 1;
      return result;
    }

    for (;;) {
      this.skipWhitespace();
      const keyOffset = this.position;
      const key = this.string();
      if (seen.has(key)) {
        throw new JsonSyntaxError(keyOffset, `duplicate key "${key}"`);
      }
      seen.add(key);
      this.expect(":");
      // defineProperty, because assigning "__proto__" would replace the prototype instead of adding a key.
      Object.defineProperty(result, key, { value: this.value(), enumerable: true, writable: true, configurable: true });
      this.skipWhitespace();
      const next = this.text[this.position];
      this.position += 1;
      if (next === "}") return result;
      if (next !== ",") throw new JsonSyntaxError(this.position - 1, 'expected "," or "}"');
    }
  }

  private array(): JsonValue[] {
    this.expect("[");
    const result: JsonValue[] = [];
    this.skipWhitespace();
    if (this.text[this.position] === "]") {
      this.position += 1;
      return result;
    }

    for (;;) {
      result.push(this.value());
      this.skipWhitespace();
      const next = this.text[this.position];
      this.position += 1;
      if (next === "]") return result;
      if (next !== ",") throw new JsonSyntaxError(this.position - 1, 'expected "," or "]"');
    }
  }

  private string(): string {
    if (this.text[this.position] !== '"') {
      throw new JsonSyntaxError(this.position, "expected a string");
    }
    const start = this.position;
    this.position += 1;
    while (!this.atEnd()) {
      const char = this.text[this.position] as string;
      if (char === '"') {
        this.position += 1;
        return decodeString(this.text.slice(start, this.position), start);
      }
      if (char === "\\") {
        this.position += 2;
        continue;
      }
      if (char < " ") {
        throw new JsonSyntaxError(this.position, "control character in string");
      }
      this.position += 1;
    }
    throw new JsonSyntaxError(start, "unterminated string");
  }

  private integer(): number {
    const match = /^-?(0|[1-9][0-9]*)/.exec(this.text.slice(this.position, this.position + 40));
    if (match === null) {
      throw new JsonSyntaxError(this.position, "invalid number");
    }
    const end = this.position + match[0].length;
    const following = this.text[end];
    if (following === "." || following === "e" || following === "E") {
      throw new JsonSyntaxError(this.position, "non-integer number (canonical JSON allows integers only)");
    }
    const value = Number(match[0]);
    if (!Number.isSafeInteger(value)) {
      throw new JsonSyntaxError(this.position, "integer outside the safe range ±(2^53-1)");
    }
    this.position = end;
    return value;
  }
}

function decodeString(quoted: string, offset: number): string {
  try {
    return JSON.parse(quoted) as string;
  } catch {
    throw new JsonSyntaxError(offset, "invalid escape in string");
  }
}

/**
 * Encodes `value` as OLPC canonical JSON: keys sorted by Unicode code point,
 * no whitespace, integers only, and only `\` and `"` escaped in strings.
 * Throws on floats and unsafe integers, which the dialect cannot represent.
 */
export function canonicalJson(value: unknown): Uint8Array {
  return new TextEncoder().encode(encodeCanonical(value));
}

function encodeCanonical(value: unknown): string {
  if (value === null) return "null";
  if (value === true) return "true";
  if (value === false) return "false";

  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) {
      throw new TypeError(`canonical JSON cannot encode ${value}: integers only`);
    }
    return String(value);
  }

  if (typeof value === "string") {
    return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
  }

  if (Array.isArray(value)) {
    return `[${value.map(encodeCanonical).join(",")}]`;
  }

  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, item]) => item !== undefined);
    entries.sort(([left], [right]) => compareCodePoints(left, right));
    return `{${entries.map(([key, item]) => `${encodeCanonical(key)}:${encodeCanonical(item)}`).join(",")}}`;
  }

  throw new TypeError(`canonical JSON cannot encode a ${typeof value}`);
}

/** Orders strings by code point, which equals UTF-8 byte order (unlike the default UTF-16 unit order). */
function compareCodePoints(left: string, right: string): number {
  return Buffer.compare(Buffer.from(left, "utf8"), Buffer.from(right, "utf8"));
}
