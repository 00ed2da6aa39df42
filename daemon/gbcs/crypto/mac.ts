import { createCipheriv, timingSafeEqual } from "node:crypto";
import { MAC_LENGTH } from "../apdu/constants.ts";
import { concatBytes } from "../bytes.ts";
import { GbcsUsageError } from "../errors.ts";
import { type Eui64, euiBytes } from "../eui.ts";
import { DERIVED_KEY_LENGTH } from "./kdf.ts";

/** The zero invocation counter that completes the 12-byte GCM IV after the 8-byte system title. */
const ZERO_INVOCATION_COUNTER = Uint8Array.of(0, 0, 0, 0);

/** The six bytes GBCS puts before the General Signing APDU in the MAC's additional authenticated data. */
const MAC_AAD_PREFIX = Uint8Array.of(0x11, 0, 0, 0, 0, 0);

/**
 * Computes the GBCS MAC of a General Signing APDU: AES-128-GCM over empty plaintext with
 * IV = originator system title ‖ 00000000 and AAD = 11 00000000 ‖ the whole APDU, tag cut to 12 bytes.
 */
export function computeMac(key: Uint8Array, originator: Eui64, apdu: Uint8Array): Uint8Array {
  checkKey(key);

  const cipher = createCipheriv("aes-128-gcm", key, gcmIv(originator), { authTagLength: MAC_LENGTH });
  cipher.setAAD(concatBytes(MAC_AAD_PREFIX, apdu));
  cipher.final();
  return new Uint8Array(cipher.getAuthTag());
}

/** Returns whether `mac` is the GBCS MAC of `apdu`, compared in constant time. */
export function isMacValid(key: Uint8Array, originator: Eui64, apdu: Uint8Array, mac: Uint8Array): boolean {
  if (mac.length !== MAC_LENGTH) return false;
  return timingSafeEqual(computeMac(key, originator, apdu), mac);
}

/** GCM IV of GBCS: the originator system title and a zero 4-byte invocation counter. */
export function gcmIv(originator: Eui64): Uint8Array {
  return concatBytes(euiBytes(originator), ZERO_INVOCATION_COUNTER);
}

export function checkKey(key: Uint8Array): void {
  if (key.length !== DERIVED_KEY_LENGTH) {
    throw new GbcsUsageError("key", `expected a 16-byte AES-128 key, got ${key.length} bytes`);
  }
}
