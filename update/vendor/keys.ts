/**
 * Signing keys of the vendor's TUF roles. Each private key is one JSON file
 * with mode 0600 in the key folder; no function here prints or logs key
 * material, only keyids.
 *
 * - ed25519: `@noble/curves`, the private key stored as a 32-byte hex seed.
 * - ecdsa (P-256): `node:crypto`, which signs in DER like OpenSSL and does
 *   not normalise S, so clients must accept high-S signatures.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign as nodeSign } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync } from "node:fs";
import { join } from "node:path";
import { ed25519 } from "@noble/curves/ed25519.js";
import { writeJsonAtomic } from "../../daemon/state/atomic.ts";
import { canonicalJson, type JsonObject } from "../tuf/json.ts";
import type { KeyRecord } from "../tuf/keys.ts";

export const KEY_TYPES = ["ed25519", "ecdsa"] as const;
export type KeyType = (typeof KEY_TYPES)[number];

export interface SigningKey {
  readonly keyid: string;
  readonly record: KeyRecord;
  sign(message: Uint8Array): Uint8Array;
}

interface KeyFile {
  role: string;
  keyid: string;
  record: KeyRecord;
  /** Hex seed for ed25519, PKCS#8 PEM for ecdsa. */
  privateKey: string;
}

/** Creates a new key of `type`; the private part stays inside the returned object until saved. */
export function generateKey(type: KeyType): { key: SigningKey; privateKey: string } {
  if (type === "ed25519") {
    const seed = ed25519.utils.randomSecretKey();
    const privateKey = Buffer.from(seed).toString("hex");
    return { key: ed25519Key(privateKey), privateKey };
  }

  const pair = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const privateKey = pair.privateKey.export({ format: "pem", type: "pkcs8" }).toString();
  return { key: ecdsaKey(privateKey), privateKey };
}

/** TUF 4.2: the keyid is the SHA-256 of the canonical JSON of the public key object. */
export function keyidOf(record: KeyRecord): string {
  return createHash("sha256").update(canonicalJson(record)).digest("hex");
}

/** Writes the key of `role` to `folder` with mode 0600 and returns its file name. */
export function saveKey(folder: string, role: string, key: SigningKey, privateKey: string): string {
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  const fileName = `${role}-${key.keyid.slice(0, 16)}.key.json`;
  const file: KeyFile = { role, keyid: key.keyid, record: key.record, privateKey };
  writeJsonAtomic(join(folder, fileName), file, 0o600);
  return fileName;
}

/** Loads the active keys of `role` from `folder`. */
export function loadKeys(folder: string, role: string): SigningKey[] {
  if (!existsSync(folder)) return [];

  return readdirSync(folder)
    .filter((name) => name.startsWith(`${role}-`) && name.endsWith(".key.json"))
    .sort()
    .map((name) => keyFromFile(JSON.parse(readFileSync(join(folder, name), "utf8")) as KeyFile));
}

/** Moves the key files of `keyids` to `folder/retired`, so they stop signing but are not lost. */
export function retireKeys(folder: string, role: string, keyids: string[]): void {
  const retired = join(folder, "retired");
  mkdirSync(retired, { recursive: true, mode: 0o700 });
  for (const keyid of keyids) {
    const fileName = `${role}-${keyid.slice(0, 16)}.key.json`;
    if (existsSync(join(folder, fileName))) renameSync(join(folder, fileName), join(retired, fileName));
  }
}

/** Signs canonical JSON of `signed` with every key and returns the envelope bytes. */
export function signEnvelope(signed: JsonObject, keys: SigningKey[]): Uint8Array {
  const message = canonicalJson(signed);
  const signatures = keys.map((key) => ({ keyid: key.keyid, sig: Buffer.from(key.sign(message)).toString("hex") }));
  return new TextEncoder().encode(`${JSON.stringify({ signatures, signed }, null, 1)}\n`);
}

function keyFromFile(file: KeyFile): SigningKey {
  return file.record.keytype === "ed25519" ? ed25519Key(file.privateKey) : ecdsaKey(file.privateKey);
}

function ed25519Key(seedHex: string): SigningKey {
  const seed = new Uint8Array(Buffer.from(seedHex, "hex"));
  const record: KeyRecord = {
    keytype: "ed25519",
    scheme: "ed25519",
    keyval: { public: Buffer.from(ed25519.getPublicKey(seed)).toString("hex") },
  };
  return { keyid: keyidOf(record), record, sign: (message) => ed25519.sign(message, seed) };
}

function ecdsaKey(pkcs8Pem: string): SigningKey {
  const privateKey = createPrivateKey(pkcs8Pem);
  const publicPem = createPublicKey(privateKey).export({ format: "pem", type: "spki" }).toString();
  const record: KeyRecord = { keytype: "ecdsa", scheme: "ecdsa-sha2-nistp256", keyval: { public: publicPem } };
  return { keyid: keyidOf(record), record, sign: (message) => new Uint8Array(nodeSign("sha256", message, privateKey)) };
}
