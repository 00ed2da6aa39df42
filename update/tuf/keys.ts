/**
 * Public keys and signature checks for the key types TUF lists (TUF 4.2,
 * "KEYTYPE" and "SCHEME"):
 * - `ed25519` / `ed25519`: public key as 64 hex characters, strict RFC 8032
 *   verification (ZIP-215 off) everywhere.
 * - `ecdsa` or `ecdsa-sha2-nistp256` / `ecdsa-sha2-nistp256`: public key as
 *   PEM SubjectPublicKeyInfo, or a hex raw point as older repositories wrote
 *   it. Signatures are DER and may carry a high S value, because OpenSSL,
 *   HSMs and YubiKeys do not normalise S, so low-S is not enforced.
 * Any other key type is skipped and counts toward no threshold.
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { p256 } from "@noble/curves/nist.js";
import { P256_SPKI_PREFIX_HEX } from "./consts.ts";

/** A public key this client can verify with. */
export interface PublicKey {
  readonly algorithm: "ed25519" | "ecdsa-p256";
  /** Raw key bytes: 32 for Ed25519, a 65-byte uncompressed point for P-256. */
  readonly raw: Uint8Array;
  /** A stable id of the key material, used to count each key once however many keyids name it. */
  readonly fingerprint: string;
}

/** The key object as it appears in root metadata. */
export interface KeyRecord {
  keytype: string;
  scheme: string;
  keyval: { public: string };
}

/** Returns the usable key, or undefined for a key type or encoding this client does not support. */
export function parsePublicKey(record: KeyRecord): PublicKey | undefined {
  if (record.keytype === "ed25519" && record.scheme === "ed25519") {
    return parseEd25519(record.keyval.public);
  }

  const isEcdsaType = record.keytype === "ecdsa" || record.keytype === "ecdsa-sha2-nistp256";
  if (isEcdsaType && record.scheme === "ecdsa-sha2-nistp256") {
    return parseP256(record.keyval.public);
  }

  return undefined;
}

/** Verifies `signature` (raw bytes) over `message`; malformed signatures return false, never throw. */
export function verifySignature(key: PublicKey, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    if (key.algorithm === "ed25519") {
      return ed25519.verify(signature, message, key.raw, { zip215: false });
    }
    return p256.verify(signature, message, key.raw, { format: "der", lowS: false, prehash: true });
  } catch {
    return false;
  }
}

function parseEd25519(publicHex: string): PublicKey | undefined {
  if (!/^[0-9a-f]{64}$/.test(publicHex)) return undefined;

  const raw = Buffer.from(publicHex, "hex");
  return { algorithm: "ed25519", raw: new Uint8Array(raw), fingerprint: `ed25519:${publicHex}` };
}

function parseP256(encoded: string): PublicKey | undefined {
  const raw = encoded.includes("BEGIN PUBLIC KEY") ? pointFromPem(encoded) : pointFromHex(encoded);
  if (raw === undefined) return undefined;

  try {
    p256.Point.fromBytes(raw);
  } catch {
    return undefined;
  }
  return { algorithm: "ecdsa-p256", raw, fingerprint: `p256:${Buffer.from(raw).toString("hex")}` };
}

function pointFromPem(pem: string): Uint8Array | undefined {
  const body = pem
    .replace(/-----BEGIN PUBLIC KEY-----/, "")
    .replace(/-----END PUBLIC KEY-----/, "")
    .replace(/\s+/g, "");
  const der = Buffer.from(body, "base64");
  const prefix = Buffer.from(P256_SPKI_PREFIX_HEX, "hex");

  if (der.length !== prefix.length + 65) return undefined;
  if (!der.subarray(0, prefix.length).equals(prefix)) return undefined;
  return new Uint8Array(der.subarray(prefix.length));
}

function pointFromHex(publicHex: string): Uint8Array | undefined {
  if (!/^04[0-9a-f]{128}$/.test(publicHex)) return undefined;
  return new Uint8Array(Buffer.from(publicHex, "hex"));
}
