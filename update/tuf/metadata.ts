/**
 * Parsing of the four top-level TUF metadata files into typed objects.
 * Parsing checks shape only (TUF 4.x formats); signatures, versions and
 * expiry are the trusted set's job. The raw bytes and the whole `signed`
 * object, unknown fields included, are kept, because signatures cover them
 * (TUF 4.2: unrecognised fields must be kept and verified).
 */
import { EXPIRES_PATTERN, SUPPORTED_SPEC_MAJOR, type TopLevelRole } from "./consts.ts";
import { InvalidMetadata, WrongType } from "./errors.ts";
import { type JsonObject, type JsonValue, JsonSyntaxError, canonicalJson, parseStrictJson } from "./json.ts";
import type { KeyRecord } from "./keys.ts";

export interface Signature {
  keyid: string;
  /** Signature bytes, decoded from hex; empty when the repository left `sig` empty. */
  sig: Uint8Array;
}

export interface RoleKeys {
  keyids: string[];
  threshold: number;
}

/** Version, length and hashes of a metadata file as its parent lists them. */
export interface MetaFile {
  version: number;
  length?: number;
  hashes?: Record<string, string>;
}

export interface TargetFile {
  length: number;
  hashes: Record<string, string>;
  custom?: JsonObject;
}

interface CommonSigned {
  version: number;
  expires: Date;
  specVersion: string;
}

export interface RootSigned extends CommonSigned {
  type: "root";
  consistentSnapshot: boolean;
  keys: Record<string, KeyRecord>;
  roles: Record<TopLevelRole, RoleKeys>;
}

export interface TimestampSigned extends CommonSigned {
  type: "timestamp";
  snapshot: MetaFile;
}

export interface SnapshotSigned extends CommonSigned {
  type: "snapshot";
  meta: Record<string, MetaFile>;
}

export interface TargetsSigned extends CommonSigned {
  type: "targets";
  targets: Record<string, TargetFile>;
}

export interface SignedByRole {
  root: RootSigned;
  timestamp: TimestampSigned;
  snapshot: SnapshotSigned;
  targets: TargetsSigned;
}

/** One parsed metadata file: the typed view, the bytes the signatures cover, and the bytes received. */
export interface Metadata<R extends TopLevelRole> {
  role: R;
  signed: SignedByRole[R];
  signatures: Signature[];
  /** Canonical JSON of `signed`, the message every signature covers. */
  signedBytes: Uint8Array;
  /** The file exactly as received; this is what gets stored, never a re-serialisation. */
  raw: Uint8Array;
}

/** Parses `raw` as metadata of `role`; throws InvalidMetadata or WrongType. */
export function parseMetadata<R extends TopLevelRole>(role: R, raw: Uint8Array): Metadata<R> {
  const envelope = asObject(role, "file", parseJson(role, raw));
  const signedObject = asObject(role, "signed", envelope.signed);
  const signatures = parseSignatures(role, envelope.signatures);

  // TUF 5.4.1 / 5.5.2 / 5.6.2: metadata of the wrong type must never stand in for the requested role.
  const type = asString(role, "signed._type", signedObject._type);
  if (type !== role) {
    throw new WrongType(role, type);
  }

  const common = parseCommon(role, signedObject);
  const signed = PARSERS[role](signedObject, common) as SignedByRole[R];
  return { role, signed, signatures, signedBytes: canonicalJson(signedObject), raw };
}

const PARSERS: { [R in TopLevelRole]: (signed: JsonObject, common: CommonSigned) => SignedByRole[R] } = {
  root: parseRoot,
  timestamp: parseTimestamp,
  snapshot: parseSnapshot,
  targets: parseTargets,
};

function parseJson(role: string, raw: Uint8Array): JsonValue {
  try {
    return parseStrictJson(raw);
  } catch (error) {
    const reason = error instanceof JsonSyntaxError ? error.message : "is not UTF-8 JSON";
    throw new InvalidMetadata(role, "file", reason);
  }
}

function parseSignatures(role: string, value: JsonValue | undefined): Signature[] {
  if (!Array.isArray(value)) {
    throw new InvalidMetadata(role, "signatures", "is not a list");
  }

  return value.map((item, index) => {
    const entry = asObject(role, `signatures[${index}]`, item);
    const keyid = asString(role, `signatures[${index}].keyid`, entry.keyid);
    const sigHex = asString(role, `signatures[${index}].sig`, entry.sig);
    if (!/^([0-9a-fA-F]{2})*$/.test(sigHex)) {
      throw new InvalidMetadata(role, `signatures[${index}].sig`, "is not hex");
    }
    return { keyid, sig: new Uint8Array(Buffer.from(sigHex, "hex")) };
  });
}

function parseCommon(role: string, signed: JsonObject): CommonSigned {
  const specVersion = asString(role, "spec_version", signed.spec_version);
  const major = Number(specVersion.split(".")[0]);

  // TUF 4.3: only the major version must match. Deployed repositories (sigstore's root) write "1.0", so a missing patch part is accepted.
  if (!/^\d+\.\d+(\.\d+)?$/.test(specVersion) || major !== SUPPORTED_SPEC_MAJOR) {
    throw new InvalidMetadata(role, "spec_version", `"${specVersion}" is not a supported ${SUPPORTED_SPEC_MAJOR}.x or ${SUPPORTED_SPEC_MAJOR}.x.y version`);
  }

  return {
    specVersion,
    version: asVersion(role, "version", signed.version),
    expires: parseExpires(role, signed.expires),
  };
}

function parseRoot(signed: JsonObject, common: CommonSigned): RootSigned {
  const consistent = signed.consistent_snapshot;
  if (typeof consistent !== "boolean") {
    throw new InvalidMetadata("root", "consistent_snapshot", "is not a boolean");
  }

  const keys: Record<string, KeyRecord> = {};
  for (const [keyid, value] of Object.entries(asObject("root", "keys", signed.keys))) {
    const key = asObject("root", `keys.${keyid}`, value);
    const keyval = asObject("root", `keys.${keyid}.keyval`, key.keyval);
    keys[keyid] = {
      keytype: asString("root", `keys.${keyid}.keytype`, key.keytype),
      scheme: asString("root", `keys.${keyid}.scheme`, key.scheme),
      keyval: { public: asString("root", `keys.${keyid}.keyval.public`, keyval.public) },
    };
  }

  const rolesObject = asObject("root", "roles", signed.roles);
  const roles = {} as Record<TopLevelRole, RoleKeys>;
  for (const name of ["root", "timestamp", "snapshot", "targets"] as const) {
    roles[name] = parseRoleKeys(asObject("root", `roles.${name}`, rolesObject[name]), name);
  }

  return { ...common, type: "root", consistentSnapshot: consistent, keys, roles };
}

function parseRoleKeys(role: JsonObject, name: string): RoleKeys {
  const keyidsValue = role.keyids;
  if (!Array.isArray(keyidsValue)) {
    throw new InvalidMetadata("root", `roles.${name}.keyids`, "is not a list");
  }
  const keyids = keyidsValue.map((keyid, index) => asString("root", `roles.${name}.keyids[${index}]`, keyid));

  // TUF 4.3: a role lists each key once; a repeated keyid would let one key count twice.
  if (new Set(keyids).size !== keyids.length) {
    throw new InvalidMetadata("root", `roles.${name}.keyids`, "lists a keyid twice");
  }

  const threshold = role.threshold;
  if (typeof threshold !== "number" || !Number.isSafeInteger(threshold) || threshold < 1) {
    throw new InvalidMetadata("root", `roles.${name}.threshold`, "is not an integer of 1 or more");
  }
  return { keyids, threshold };
}

function parseTimestamp(signed: JsonObject, common: CommonSigned): TimestampSigned {
  const meta = asObject("timestamp", "meta", signed.meta);
  const names = Object.keys(meta);

  // TUF 4.6: the timestamp lists exactly one file, the snapshot.
  if (names.length !== 1 || names[0] !== "snapshot.json") {
    throw new InvalidMetadata("timestamp", "meta", `must list only snapshot.json, not [${names.join(", ")}]`);
  }
  return { ...common, type: "timestamp", snapshot: parseMetaFile("timestamp", "meta.snapshot.json", meta["snapshot.json"]) };
}

function parseSnapshot(signed: JsonObject, common: CommonSigned): SnapshotSigned {
  const meta: Record<string, MetaFile> = {};
  for (const [name, value] of Object.entries(asObject("snapshot", "meta", signed.meta))) {
    meta[name] = parseMetaFile("snapshot", `meta.${name}`, value);
  }
  return { ...common, type: "snapshot", meta };
}

function parseTargets(signed: JsonObject, common: CommonSigned): TargetsSigned {
  const targets: Record<string, TargetFile> = {};
  for (const [name, value] of Object.entries(asObject("targets", "targets", signed.targets))) {
    const field = `targets.${name}`;
    validateTargetName(name);
    const entry = asObject("targets", field, value);
    const custom = entry.custom === undefined ? undefined : asObject("targets", `${field}.custom`, entry.custom);
    targets[name] = {
      length: asLength("targets", `${field}.length`, entry.length),
      hashes: parseHashes("targets", `${field}.hashes`, entry.hashes),
      ...(custom === undefined ? {} : { custom }),
    };
  }
  return { ...common, type: "targets", targets };
}

/**
 * Target paths use `/` with no leading `/` (TUF 4.5). Names also become
 * URLs and local file names, so empty, `.` and `..` segments are rejected.
 */
function validateTargetName(name: string): void {
  const segments = name.split("/");
  const unsafe = segments.some((segment) => segment === "" || segment === "." || segment === "..");
  if (unsafe || name.includes("\\") || /[\u0000-\u001f]/.test(name)) {
    throw new InvalidMetadata("targets", `targets.${name}`, "is not a safe relative path");
  }
}

function parseMetaFile(role: string, field: string, value: JsonValue | undefined): MetaFile {
  const entry = asObject(role, field, value);
  const result: MetaFile = { version: asVersion(role, `${field}.version`, entry.version) };
  if (entry.length !== undefined) result.length = asLength(role, `${field}.length`, entry.length);
  if (entry.hashes !== undefined) result.hashes = parseHashes(role, `${field}.hashes`, entry.hashes);
  return result;
}

function parseHashes(role: string, field: string, value: JsonValue | undefined): Record<string, string> {
  const hashes: Record<string, string> = {};
  const entries = Object.entries(asObject(role, field, value));
  if (entries.length === 0) {
    throw new InvalidMetadata(role, field, "lists no hash");
  }
  for (const [algorithm, digest] of entries) {
    const hex = asString(role, `${field}.${algorithm}`, digest);
    if (!/^[0-9a-f]+$/.test(hex)) {
      throw new InvalidMetadata(role, `${field}.${algorithm}`, "is not lowercase hex");
    }
    hashes[algorithm] = hex;
  }
  return hashes;
}

function parseExpires(role: string, value: JsonValue | undefined): Date {
  const text = asString(role, "expires", value);
  const match = EXPIRES_PATTERN.exec(text);
  const date = new Date(text);
  if (match === null || Number.isNaN(date.getTime()) || date.toISOString().slice(0, 19) !== text.slice(0, 19)) {
    throw new InvalidMetadata(role, "expires", `"${text}" is not a UTC time YYYY-MM-DDTHH:MM:SSZ`);
  }
  return date;
}

function asObject(role: string, field: string, value: JsonValue | undefined): JsonObject {
  if (value === null || value === undefined || typeof value !== "object" || Array.isArray(value)) {
    throw new InvalidMetadata(role, field, "is missing or not an object");
  }
  return value;
}

function asString(role: string, field: string, value: JsonValue | undefined): string {
  if (typeof value !== "string") {
    throw new InvalidMetadata(role, field, "is missing or not a string");
  }
  return value;
}

/** Versions are integers from 1 to 2^53-1 (TUF 4.3, "VERSION"). */
function asVersion(role: string, field: string, value: JsonValue | undefined): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidMetadata(role, field, "is not an integer from 1 to 2^53-1");
  }
  return value;
}

function asLength(role: string, field: string, value: JsonValue | undefined): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidMetadata(role, field, "is not a non-negative integer");
  }
  return value;
}
