import { createCipheriv, createDecipheriv } from "node:crypto";
import { MAC_LENGTH } from "../apdu/constants.ts";
import { ByteReader, bytesEqual, concatBytes, toHex } from "../bytes.ts";
import { GbcsDecryptionError } from "../errors.ts";
import type { Eui64 } from "../eui.ts";
import { checkKey, gcmIv } from "./mac.ts";

/** Security control byte of a protected payload: authenticated and encrypted. It is also the whole AAD. */
export const ENCRYPTION_SECURITY_CONTROL = 0x31;

/** Security header of a protected payload: security control and a zero invocation counter. */
export const ENCRYPTION_SECURITY_HEADER = Uint8Array.of(ENCRYPTION_SECURITY_CONTROL, 0, 0, 0, 0);

/**
 * Encrypts a protected payload as GBCS requires (for example ECS17b register values): AES-128-GCM with
 * IV = originator system title ‖ 00000000, AAD = `31`, key from the encryption-mode KDF. Returns
 * `31 00000000 ‖ ciphertext ‖ tag(12)`, the value of the octet-string that carries it.
 */
export function encryptPayload(key: Uint8Array, originator: Eui64, plaintext: Uint8Array): Uint8Array {
  checkKey(key);

  const cipher = createCipheriv("aes-128-gcm", key, gcmIv(originator), { authTagLength: MAC_LENGTH });
  cipher.setAAD(Uint8Array.of(ENCRYPTION_SECURITY_CONTROL));
  const ciphertext = concatBytes(cipher.update(plaintext), cipher.final());
  return concatBytes(ENCRYPTION_SECURITY_HEADER, ciphertext, cipher.getAuthTag());
}

/** Decrypts the output of {@link encryptPayload}; raises {@link GbcsDecryptionError} if the tag does not match. */
export function decryptPayload(key: Uint8Array, originator: Eui64, protectedPayload: Uint8Array): Uint8Array {
  checkKey(key);

  const reader: ByteReader = new ByteReader(protectedPayload, "protected payload");
  const header = reader.take(ENCRYPTION_SECURITY_HEADER.length, "security header");
  if (!bytesEqual(header, ENCRYPTION_SECURITY_HEADER)) {
    reader.fail("security header", `expected 3100000000, got ${toHex(header)}`);
  }
  if (reader.remaining < MAC_LENGTH) reader.fail("tag", `needs 12 bytes, ${reader.remaining} remain`);

  const ciphertext = reader.take(reader.remaining - MAC_LENGTH, "ciphertext");
  const tag = reader.take(MAC_LENGTH, "tag");

  const decipher = createDecipheriv("aes-128-gcm", key, gcmIv(originator), { authTagLength: MAC_LENGTH });
  decipher.setAAD(Uint8Array.of(ENCRYPTION_SECURITY_CONTROL));
  decipher.setAuthTag(tag);
  try {
    return concatBytes(decipher.update(ciphertext), decipher.final());
  } catch (error) {
    throw new GbcsDecryptionError(originator, `GCM tag mismatch (${(error as Error).message})`);
  }
}
