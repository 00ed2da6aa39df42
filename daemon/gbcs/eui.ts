import { fromHex, toHex } from "./bytes.ts";
import { GbcsUsageError } from "./errors.ts";

/** An EUI-64 system title as 16 upper-case hex digits, for example `00DB1234567890A0`. */
export type Eui64 = string & { readonly __brand: "Eui64" };

/** Parses an EUI-64 from 8 bytes or from hex text in any case, with or without `-` or `:` separators. */
export function parseEui64(value: string | Uint8Array, argument = "EUI-64"): Eui64 {
  const bytes = typeof value === "string" ? fromHex(value, argument) : value;
  if (bytes.length !== 8) {
    throw new GbcsUsageError(argument, `expected 8 bytes, got ${bytes.length}`);
  }
  return toHex(bytes) as Eui64;
}

export function euiBytes(eui: Eui64): Uint8Array {
  return fromHex(eui);
}
