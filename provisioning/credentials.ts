import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { ADMIN_TOKEN_BYTES, DEVICE_ID_PREFIX } from "./constants.ts";

/**
 * Stored form of the admin API token. A SHA-256 digest is enough here because
 * the token has {@link ADMIN_TOKEN_BYTES} random bytes, far beyond brute force,
 * so a slow password hash would add nothing.
 */
export type AdminCredential = { algorithm: "sha256"; hash: string };

/** Generates a device ID: {@link DEVICE_ID_PREFIX} and 16 random hex digits. */
export function generateDeviceId(): string {
  return `${DEVICE_ID_PREFIX}${randomBytes(8).toString("hex")}`;
}

/** Generates a random admin API token in base64url. */
export function generateAdminToken(): string {
  return randomBytes(ADMIN_TOKEN_BYTES).toString("base64url");
}

/** Computes the stored form of an admin token. */
export function hashAdminToken(token: string): AdminCredential {
  return { algorithm: "sha256", hash: createHash("sha256").update(token, "utf8").digest("hex") };
}

/** Returns whether `token` matches the stored credential, comparing in constant time. */
export function verifyAdminToken(token: string, credential: AdminCredential): boolean {
  const expected = Buffer.from(credential.hash, "hex");
  const actual = createHash("sha256").update(token, "utf8").digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
