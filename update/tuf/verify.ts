/**
 * The one threshold rule and the one length/hash rule of the trust core.
 * Every role, root rotations included, goes through `verifyThreshold`, so
 * there is a single copy of the unique-key counting.
 */
import { createHash } from "node:crypto";
import { SUPPORTED_HASH_ALGORITHMS, type HashAlgorithm } from "./consts.ts";
import { BadSignature, LengthOrHashMismatch, ThresholdNotMet, UnsupportedHashAlgorithm } from "./errors.ts";
import { parsePublicKey, verifySignature } from "./keys.ts";
import type { MetaFile, Metadata, RoleKeys, RootSigned } from "./metadata.ts";
import type { TopLevelRole } from "./consts.ts";

/**
 * Throws unless a threshold of `root`'s keys for `role` signed `metadata`.
 *
 * TUF 4.2: a keyid appears at most once among the signatures, so a file that
 * repeats one is rejected whole, even if the threshold is otherwise met.
 * TUF 5.3.4 / 5.4.1: each key counts once, and keys are also deduplicated by
 * key material, so two keyids naming the same key count as one. Empty or
 * invalid signatures next to a met threshold are ignored, not fatal.
 */
export function verifyThreshold(
  metadata: Metadata<TopLevelRole>,
  role: TopLevelRole,
  root: RootSigned,
  keysFrom: "trusted root" | "new root",
): void {
  const seenKeyids = new Set<string>();
  for (const signature of metadata.signatures) {
    if (seenKeyids.has(signature.keyid)) {
      throw new BadSignature(metadata.role, signature.keyid, "the keyid signs twice");
    }
    seenKeyids.add(signature.keyid);
  }

  const roleKeys: RoleKeys = root.roles[role];
  const countedKeys = new Set<string>();
  for (const keyid of roleKeys.keyids) {
    const record = root.keys[keyid];
    const key = record === undefined ? undefined : parsePublicKey(record);
    const signature = metadata.signatures.find((item) => item.keyid === keyid);
    if (key === undefined || signature === undefined || countedKeys.has(key.fingerprint)) continue;

    if (verifySignature(key, metadata.signedBytes, signature.sig)) {
      countedKeys.add(key.fingerprint);
    }
  }

  if (countedKeys.size < roleKeys.threshold) {
    throw new ThresholdNotMet(metadata.role, countedKeys.size, roleKeys.threshold, keysFrom);
  }
}

/** Throws unless `bytes` match the length and every supported hash `expected` lists (TUF 5.5.1 / 5.6.1). */
export function verifyMetaFile(file: string, bytes: Uint8Array, expected: MetaFile): void {
  if (expected.length !== undefined && bytes.length !== expected.length) {
    throw new LengthOrHashMismatch(file, "length", String(expected.length), String(bytes.length));
  }

  if (expected.hashes === undefined) return;

  for (const [algorithm, digest] of Object.entries(supportedTargetHashes(file, expected.hashes))) {
    const actual = hashHex(algorithm as HashAlgorithm, bytes);
    if (actual !== digest) {
      throw new LengthOrHashMismatch(file, algorithm, digest, actual);
    }
  }
}

/**
 * Returns the hashes of `hashes` this client can check, failing when none
 * is supported (TUF 5.7: a file listing only unknown algorithms cannot be verified).
 */
export function supportedTargetHashes(target: string, hashes: Record<string, string>): Partial<Record<HashAlgorithm, string>> {
  const supported: Partial<Record<HashAlgorithm, string>> = {};
  for (const [algorithm, digest] of Object.entries(hashes)) {
    if (isSupportedHash(algorithm)) supported[algorithm] = digest;
  }
  if (Object.keys(supported).length === 0) {
    throw new UnsupportedHashAlgorithm(target, Object.keys(hashes));
  }
  return supported;
}

export function hashHex(algorithm: HashAlgorithm, bytes: Uint8Array): string {
  return createHash(algorithm).update(bytes).digest("hex");
}

function isSupportedHash(algorithm: string): algorithm is HashAlgorithm {
  return (SUPPORTED_HASH_ALGORITHMS as readonly string[]).includes(algorithm);
}
