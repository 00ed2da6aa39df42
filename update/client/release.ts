/**
 * Releases as the vendor signs them: the `custom.boxd` object of a TUF
 * target. TUF authenticates the bytes. These fields describe the release
 * and the devices it is for, and the client checks them before offering it.
 *
 * Target names are `<channel>/<file>`, and `custom.boxd.channel` must equal
 * the first path segment, so a target signed for `upcoming` cannot be
 * offered under `current/`.
 */
import type { JsonObject, JsonValue } from "../tuf/json.ts";
import type { TargetFile } from "../tuf/metadata.ts";
import { InvalidArgument, ReleaseFieldMismatch } from "../tuf/errors.ts";

export const CHANNELS = ["current", "upcoming"] as const;
export type Channel = (typeof CHANNELS)[number];

/**
 * `full`: a new boxd image that replaces the running one.
 * `config-patch`: emulator data for one DUIS and one GBCS version, applied
 * without replacing the binary.
 */
export const RELEASE_KINDS = ["full", "config-patch"] as const;
export type ReleaseKind = (typeof RELEASE_KINDS)[number];

/** The signed release fields, as written in `custom.boxd`. */
export interface ReleaseFields {
  kind: ReleaseKind;
  /** Semantic version shown to users and used for pins, for example "2.5.0-rc1". */
  version: string;
  /**
   * Monotonic release counter that orders releases. Full releases share one
   * sequence; config patches have one sequence per DUIS/GBCS version pair.
   */
  counter: number;
  channel: Channel;
  /** Hardware ids this release may be installed on. */
  hardwareIds: string[];
  /** DUIS versions a full release supports, or the single one a config patch is for. */
  duisVersions: string[];
  /** GBCS versions a full release supports, or the single one a config patch is for. */
  gbcsVersions: string[];
  /** Installed release counters from which the vendor signs a downgrade to this release. */
  downgradeFrom: number[];
  /** Present when the vendor revoked the release; a revoked release is never installed. */
  revoked?: { reason: string };
}

/** A verified target with its release fields. */
export interface Release extends ReleaseFields {
  /** TUF target name, `<channel>/<file>`. */
  name: string;
  length: number;
  sha256: string;
  /** The whole signed `custom` object, as the installer may need more of it. */
  custom: JsonObject;
}

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

/** Throws InvalidArgument unless `version` is semver 2.0.0. */
export function requireSemver(argument: string, version: string): void {
  if (!SEMVER.test(version)) {
    throw new InvalidArgument(argument, version, "a semantic version such as 2.4.0 or 2.5.0-rc1");
  }
}

/** Returns the key of the floor a release moves: one for full releases, one per DUIS/GBCS pair for patches. */
export function floorKey(release: Pick<ReleaseFields, "kind" | "duisVersions" | "gbcsVersions">): string {
  if (release.kind === "full") return "full";
  return `config-patch:duis-${release.duisVersions[0]}:gbcs-${release.gbcsVersions[0]}`;
}

/**
 * Reads the release fields of target `name`. Throws ReleaseFieldMismatch
 * when a field is missing, malformed, or contradicts the target name.
 */
export function parseRelease(name: string, target: TargetFile): Release {
  const custom = target.custom ?? {};
  const fields = objectField(name, "custom.boxd", custom.boxd);

  const kind = enumField(name, "kind", fields.kind, RELEASE_KINDS);
  const version = stringField(name, "version", fields.version);
  if (!SEMVER.test(version)) {
    throw new ReleaseFieldMismatch(name, "version", "a semantic version", version);
  }

  // The path scopes the channel: a target listed under current/ must be signed as a current release.
  const channel = enumField(name, "channel", fields.channel, CHANNELS);
  const pathChannel = name.split("/")[0] ?? "";
  if (pathChannel !== channel) {
    throw new ReleaseFieldMismatch(name, "channel", pathChannel, channel);
  }

  const duisVersions = stringList(name, "duisVersions", fields.duisVersions);
  const gbcsVersions = stringList(name, "gbcsVersions", fields.gbcsVersions);
  if (kind === "config-patch" && (duisVersions.length !== 1 || gbcsVersions.length !== 1)) {
    throw new ReleaseFieldMismatch(name, "duisVersions/gbcsVersions", "exactly one each for a config patch", `${duisVersions.length}/${gbcsVersions.length}`);
  }

  const sha256 = target.hashes.sha256;
  if (sha256 === undefined) {
    throw new ReleaseFieldMismatch(name, "hashes", "sha256", Object.keys(target.hashes).join(","));
  }

  const revokedValue = fields.revoked;
  const revoked = revokedValue === undefined ? undefined : { reason: stringField(name, "revoked.reason", objectField(name, "revoked", revokedValue).reason) };

  return {
    name,
    kind,
    version,
    counter: counterField(name, "counter", fields.counter),
    channel,
    hardwareIds: stringList(name, "hardwareIds", fields.hardwareIds),
    duisVersions,
    gbcsVersions,
    downgradeFrom: fields.downgradeFrom === undefined ? [] : counterList(name, "downgradeFrom", fields.downgradeFrom),
    ...(revoked === undefined ? {} : { revoked }),
    length: target.length,
    sha256,
    custom,
  };
}

function objectField(target: string, field: string, value: JsonValue | undefined): JsonObject {
  if (value === null || value === undefined || typeof value !== "object" || Array.isArray(value)) {
    throw new ReleaseFieldMismatch(target, field, "an object", describe(value));
  }
  return value;
}

function stringField(target: string, field: string, value: JsonValue | undefined): string {
  if (typeof value !== "string" || value.length === 0) {
    throw new ReleaseFieldMismatch(target, field, "a non-empty string", describe(value));
  }
  return value;
}

function enumField<T extends string>(target: string, field: string, value: JsonValue | undefined, allowed: readonly T[]): T {
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    throw new ReleaseFieldMismatch(target, field, allowed.join("|"), describe(value));
  }
  return value as T;
}

function counterField(target: string, field: string, value: JsonValue | undefined): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw new ReleaseFieldMismatch(target, field, "an integer from 1 to 2^53-1", describe(value));
  }
  return value;
}

function stringList(target: string, field: string, value: JsonValue | undefined): string[] {
  if (!Array.isArray(value) || value.some((item) => typeof item !== "string")) {
    throw new ReleaseFieldMismatch(target, field, "a list of strings", describe(value));
  }
  return value as string[];
}

function counterList(target: string, field: string, value: JsonValue): number[] {
  if (!Array.isArray(value)) {
    throw new ReleaseFieldMismatch(target, field, "a list of release counters", describe(value));
  }
  return value.map((item) => counterField(target, field, item));
}

function describe(value: JsonValue | undefined): string {
  return value === undefined ? "nothing" : JSON.stringify(value);
}
