/**
 * EUI-64 identifiers of devices and organisations. The canonical form inside
 * boxd is 16 lower-case hex digits; DUIS and SMKI write them as 8 hyphenated
 * pairs (`00-DB-12-34-56-78-90-A0`), in either case.
 */

/** An EUI-64 as 16 lower-case hex digits, for example `00db1234567890a0`. */
export type Eui = string & { readonly __brand: "Eui" };

const PLAIN_EUI = /^[0-9a-f]{16}$/;
const HYPHENATED_EUI = /^[0-9a-f]{2}(-[0-9a-f]{2}){7}$/;

/**
 * Parses an EUI written as 16 hex digits or as 8 hyphenated pairs, in either
 * case and with surrounding whitespace. Returns undefined for anything else.
 */
export function parseEui(text: string): Eui | undefined {
  const lower = text.trim().toLowerCase();
  if (PLAIN_EUI.test(lower)) {
    return lower as Eui;
  }
  if (HYPHENATED_EUI.test(lower)) {
    return lower.replaceAll("-", "") as Eui;
  }
  return undefined;
}

/** Returns the EUI as upper-case hyphenated pairs, the form SMKI responses use. */
export function formatEuiHyphenated(eui: Eui): string {
  return (eui.toUpperCase().match(/../g) ?? []).join("-");
}

export function euiToBytes(eui: Eui): Uint8Array {
  return new Uint8Array(Buffer.from(eui, "hex"));
}
