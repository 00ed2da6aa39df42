import { readFileSync } from "node:fs";
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { writeJsonAtomic } from "../../daemon/state/atomic.ts";
import { canonicalBytes } from "./canonical-json.ts";
import { KEY_TYPE_ED25519 } from "./constants.ts";
import { LockSettingInvalid } from "./errors.ts";

/** Ed25519 public key in the TUF key format, so the same key can be listed in TUF metadata. */
export type Ed25519PublicKey = {
  keytype: typeof KEY_TYPE_ED25519;
  scheme: typeof KEY_TYPE_ED25519;
  keyval: { public: string };
};

/** Ed25519 key pair with its TUF key ID. `secretKey` is the 32-byte RFC 8032 seed. */
export type Ed25519KeyPair = {
  keyId: string;
  publicKey: Uint8Array;
  secretKey: Uint8Array;
};

/** One signature of a signed envelope, as in TUF metadata. */
export type Signature = { keyid: string; sig: string };

/** Signed envelope: the canonical JSON of `signed` is what each signature covers. */
export type SignedEnvelope<T> = { signed: T; signatures: Signature[] };

const KEY_BYTES = 32;
const SIGNATURE_BYTES = 64;
const HEX_PATTERN = /^(?:[0-9a-f]{2})+$/;

/** Builds the TUF key object of a raw 32-byte Ed25519 public key. */
export function publicKeyObject(publicKey: Uint8Array): Ed25519PublicKey {
  return { keytype: KEY_TYPE_ED25519, scheme: KEY_TYPE_ED25519, keyval: { public: bytesToHex(publicKey) } };
}

/** Computes the TUF key ID: SHA-256 over the canonical JSON of the public key object, in hex. */
export function keyIdOf(key: Ed25519PublicKey): string {
  return bytesToHex(sha256(canonicalBytes(key)));
}

/** Generates a fresh Ed25519 key pair from the operating system's random source. */
export function generateKeyPair(): Ed25519KeyPair {
  const secretKey = ed25519.utils.randomSecretKey();
  return keyPairFromSecret(secretKey);
}

/** Derives the key pair of a 32-byte Ed25519 seed. */
export function keyPairFromSecret(secretKey: Uint8Array): Ed25519KeyPair {
  const publicKey = ed25519.getPublicKey(secretKey);
  return { keyId: keyIdOf(publicKeyObject(publicKey)), publicKey, secretKey };
}

/**
 * Validates an untrusted value as an Ed25519 key object and returns it.
 * `setting` and `source` name the value in the error.
 */
export function parsePublicKey(value: unknown, setting: string, source: string): Ed25519PublicKey {
  const key = value as Partial<Ed25519PublicKey> | null;
  if (typeof key !== "object" || key === null || key.keytype !== KEY_TYPE_ED25519 || key.scheme !== KEY_TYPE_ED25519) {
    throw new LockSettingInvalid(setting, source, `expected {"keytype":"ed25519","scheme":"ed25519","keyval":{"public":HEX}}`);
  }

  const hex = key.keyval?.public;
  if (typeof hex !== "string" || hex.length !== KEY_BYTES * 2 || !HEX_PATTERN.test(hex)) {
    throw new LockSettingInvalid(setting, source, `keyval.public must be ${KEY_BYTES * 2} lowercase hex digits`);
  }

  return publicKeyObject(hexToBytes(hex));
}

/** Returns the raw 32-byte public key of a key object. */
export function publicKeyBytes(key: Ed25519PublicKey): Uint8Array {
  return hexToBytes(key.keyval.public);
}

/** Signs the canonical JSON of `signed` and wraps both in an envelope. */
export function signEnvelope<T>(signed: T, pair: Ed25519KeyPair): SignedEnvelope<T> {
  const sig = bytesToHex(ed25519.sign(canonicalBytes(signed), pair.secretKey));
  return { signed, signatures: [{ keyid: pair.keyId, sig }] };
}

/**
 * Verifies an Ed25519 signature in hex over `message`. Verification follows
 * RFC 8032 strictly (`zip215: false`), as the TUF client does. Malformed
 * input returns false instead of raising.
 */
export function verifySignature(signatureHex: string, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signatureHex.length !== SIGNATURE_BYTES * 2 || !HEX_PATTERN.test(signatureHex)) {
    return false;
  }

  try {
    return ed25519.verify(hexToBytes(signatureHex), message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

/** Secret key file: the public key object plus the seed in hex. Written with mode 0600. */
type SecretKeyFile = Ed25519PublicKey & { keyval: { public: string; private: string } };

/** Writes the key pair to `path` atomically with mode 0600. */
export function writeSecretKeyFile(path: string, pair: Ed25519KeyPair): void {
  const file: SecretKeyFile = {
    ...publicKeyObject(pair.publicKey),
    keyval: { public: bytesToHex(pair.publicKey), private: bytesToHex(pair.secretKey) },
  };
  writeJsonAtomic(path, file, 0o600);
}

/** Writes the public key object to `path` atomically with mode 0644. */
export function writePublicKeyFile(path: string, publicKey: Uint8Array): void {
  writeJsonAtomic(path, publicKeyObject(publicKey), 0o644);
}

/** Reads a secret key file and checks that its public half matches the seed. */
export function readSecretKeyFile(path: string, setting: string): Ed25519KeyPair {
  const value = readJsonFile(path, setting) as Partial<SecretKeyFile>;
  const secretHex = value?.keyval?.private;
  if (typeof secretHex !== "string" || secretHex.length !== KEY_BYTES * 2 || !HEX_PATTERN.test(secretHex)) {
    throw new LockSettingInvalid(setting, path, `keyval.private must be ${KEY_BYTES * 2} lowercase hex digits`);
  }

  const pair = keyPairFromSecret(hexToBytes(secretHex));
  const declared = parsePublicKey(value, setting, path);
  if (declared.keyval.public !== bytesToHex(pair.publicKey)) {
    throw new LockSettingInvalid(setting, path, "keyval.public does not match keyval.private");
  }

  return pair;
}

/** Reads a public key file written by {@link writePublicKeyFile} (or the public half of a secret key file). */
export function readPublicKeyFile(path: string, setting: string): Ed25519PublicKey {
  return parsePublicKey(readJsonFile(path, setting), setting, path);
}

function readJsonFile(path: string, setting: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new LockSettingInvalid(setting, path, `cannot read the file (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }

  try {
    return JSON.parse(text);
  } catch {
    throw new LockSettingInvalid(setting, path, "the file is not valid JSON");
  }
}
