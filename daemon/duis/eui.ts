/**
 * An EUI-64 as 16 upper-case hex digits with no separators, the form boxd
 * keys everything by. DUIS writes EUIs as 8 hyphenated pairs in either case.
 */
export type Eui = string & { readonly __eui: unique symbol };

const HYPHENATED = /^[0-9A-Fa-f]{2}(-[0-9A-Fa-f]{2}){7}$/;
const PLAIN = /^[0-9A-Fa-f]{16}$/;

/** Parses `00-DB-12-34-56-78-90-A0` or `00db1234567890a0`; throws on anything else. */
export function parseEui(text: string): Eui {
  const trimmed = text.trim();
  if (!HYPHENATED.test(trimmed) && !PLAIN.test(trimmed)) {
    throw new TypeError(
      `invalid EUI-64 "${text}": expected 8 hex pairs such as 00-DB-12-34-56-78-90-A0`,
    );
  }

  return trimmed.replaceAll("-", "").toUpperCase() as Eui;
}

/** Returns true when `text` is an EUI-64 in either accepted form. */
export function isEui(text: string): boolean {
  const trimmed = text.trim();
  return HYPHENATED.test(trimmed) || PLAIN.test(trimmed);
}

/** Formats an EUI the way DCC Boxed echoes it: upper case, hyphenated. */
export function formatEui(eui: Eui): string {
  return eui.match(/../g)!.join("-");
}
