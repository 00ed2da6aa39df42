/**
 * Settings and fixed values of the TUF trust core (TUF specification
 * v1.0.34). Each limit states its unit.
 */

/** The TUF specification major version this client implements. */
export const SUPPORTED_SPEC_MAJOR = 1;

/** The spec_version written by the vendor tool. */
export const SPEC_VERSION = "1.0.34";

/** The four top-level roles, in the order a refresh loads them. */
export const TOP_LEVEL_ROLES = ["root", "timestamp", "snapshot", "targets"] as const;
export type TopLevelRole = (typeof TOP_LEVEL_ROLES)[number];

/** Hash algorithms this client can check. TUF 5.7 fails a target that lists only other algorithms. */
export const SUPPORTED_HASH_ALGORITHMS = ["sha256", "sha512"] as const;
export type HashAlgorithm = (typeof SUPPORTED_HASH_ALGORITHMS)[number];

/** Caps on what one refresh downloads and walks. */
export interface TrustLimits {
  /** Cap on one `N.root.json` (TUF 5.3.3), in bytes. */
  rootMaxBytes: number;
  /** Cap on `timestamp.json` (TUF 5.4), in bytes. */
  timestampMaxBytes: number;
  /** Cap on the snapshot when the timestamp lists no length (TUF 5.5), in bytes. */
  snapshotMaxBytes: number;
  /** Cap on the targets file when the snapshot lists no length (TUF 5.6), in bytes. */
  targetsMaxBytes: number;
  /** Root versions walked in one refresh before it stops (TUF 5.3.1), in files. */
  maxRootRotations: number;
}

/** Defaults, equal to those of python-tuf and go-tuf. */
export const DEFAULT_TRUST_LIMITS: TrustLimits = {
  rootMaxBytes: 512_000,
  timestampMaxBytes: 16_384,
  snapshotMaxBytes: 2_000_000,
  targetsMaxBytes: 5_000_000,
  maxRootRotations: 256,
};

/** DER bytes of a P-256 SubjectPublicKeyInfo that precede the 65-byte uncompressed point (RFC 5480). */
export const P256_SPKI_PREFIX_HEX = "3059301306072a8648ce3d020106082a8648ce3d030107034200";

/** The `expires` format TUF requires: UTC, whole seconds. */
export const EXPIRES_PATTERN = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;
