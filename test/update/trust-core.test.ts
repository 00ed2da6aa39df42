import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { p256 } from "@noble/curves/nist.js";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateKeyPairSync, sign as nodeSign } from "node:crypto";
import { HttpFetcher } from "../../update/client/fetcher.ts";
import { TimeFloor } from "../../update/client/store.ts";
import {
  BadSignature,
  ClockWentBackwards,
  DownloadError,
  Expired,
  InvalidMetadata,
  OutOfOrder,
  Rollback,
  ThresholdNotMet,
  UpdateError,
  VersionMismatch,
  WrongType,
} from "../../update/tuf/errors.ts";
import { JsonSyntaxError, canonicalJson, parseStrictJson, type JsonObject } from "../../update/tuf/json.ts";
import { parsePublicKey, verifySignature } from "../../update/tuf/keys.ts";
import { parseMetadata } from "../../update/tuf/metadata.ts";
import { TrustedMetadataSet } from "../../update/tuf/trusted-set.ts";
import { generateKey, signEnvelope, type SigningKey } from "../../update/vendor/keys.ts";
import { metaOf } from "../../update/vendor/repository.ts";

const NOW = new Date("2026-12-01T00:00:00Z");
const FUTURE = "2027-12-01T00:00:00Z";
const PAST = "2026-11-01T00:00:00Z";

const keys = {
  root: generateKey("ed25519").key,
  timestamp: generateKey("ed25519").key,
  snapshot: generateKey("ed25519").key,
  targets: generateKey("ed25519").key,
};

function fieldsOf(error: unknown): Record<string, unknown> {
  const { message: _message, stack: _stack, ...fields } = { ...(error as Error) } as Record<string, unknown>;
  return fields;
}

function thrown(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error, but the call returned");
}

function rootSigned(version: number, edit: (signed: JsonObject) => void = () => undefined): JsonObject {
  const keyRecords: JsonObject = {};
  const roles: JsonObject = {};
  for (const [role, key] of Object.entries(keys)) {
    keyRecords[key.keyid] = key.record as unknown as JsonObject;
    roles[role] = { keyids: [key.keyid], threshold: 1 };
  }
  const signed: JsonObject = { _type: "root", spec_version: "1.0.34", version, expires: FUTURE, consistent_snapshot: true, keys: keyRecords, roles };
  edit(signed);
  return signed;
}

function timestampSigned(version: number, snapshotVersion: number, expires = FUTURE): JsonObject {
  return { _type: "timestamp", spec_version: "1.0.34", version, expires, meta: { "snapshot.json": { version: snapshotVersion } } };
}

function sign(signed: JsonObject, signers: SigningKey[]): Uint8Array {
  return signEnvelope(signed, signers);
}

function trustedSet(): TrustedMetadataSet {
  const set = new TrustedMetadataSet(sign(rootSigned(1), [keys.root]), NOW);
  set.finishRootUpdate();
  return set;
}

describe("canonical JSON", () => {
  test.each([
    ["sorted keys, escaped quote and backslash", { b: 1, a: [true, null, 'x"\\'] }, '{"a":[true,null,"x\\"\\\\"],"b":1}'],
    ["keys in code point order", { "é": 1, z: 2, "\u{1F600}": 3, "\uFF5E": 4 }, '{"z":2,"é":1,"\uFF5E":4,"\u{1F600}":3}'],
    ["control character unescaped", { text: "line\nbreak" }, '{"text":"line\nbreak"}'],
    ["nested object", { nested: { b: -2, a: 0 } }, '{"nested":{"a":0,"b":-2}}'],
  ])("encodes %s", (_name, value, expected) => {
    expect(new TextDecoder().decode(canonicalJson(value))).toBe(expected);
  });

  test.each([[1.5], [Number.MAX_SAFE_INTEGER + 1], [Number.NaN]])("rejects number %p", (value) => {
    expect(() => canonicalJson({ value })).toThrow(TypeError);
  });
});

describe("strict JSON parser", () => {
  test.each([
    ['{"version":1,"version":2}', 'duplicate key "version"'],
    ['{"version":1.0}', "non-integer number (canonical JSON allows integers only)"],
    ['{"version":1e3}', "non-integer number (canonical JSON allows integers only)"],
    ['{"version":9007199254740993}', "integer outside the safe range ±(2^53-1)"],
    ['{"a":1} x', "unexpected text after the JSON value"],
    ['{"a":"\\q"}', "invalid escape in string"],
    ['{"a":01}', 'expected "," or "}"'],
  ])("rejects %s", (text, reason) => {
    const error = thrown(() => parseStrictJson(new TextEncoder().encode(text)));

    expect(error).toBeInstanceOf(JsonSyntaxError);
    expect((error as JsonSyntaxError).reason).toBe(reason);
  });

  test("keeps a __proto__ key as data", () => {
    const parsed = parseStrictJson(new TextEncoder().encode('{"__proto__":{"polluted":1}}')) as JsonObject;

    expect(Object.keys(parsed)).toEqual(["__proto__"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe("metadata format", () => {
  const valid = rootSigned(1);
  const cases: Array<[string, "root" | "timestamp" | "targets", () => Uint8Array, InvalidMetadata | WrongType]> = [
    [
      "duplicate version key",
      "root",
      () => new TextEncoder().encode(new TextDecoder().decode(sign(valid, [keys.root])).replace('"version": 1,', '"version": 1, "version": 9,')),
      new InvalidMetadata("root", "file", 'duplicate key "version" at offset 0'),
    ],
    ["version 0", "root", () => sign(rootSigned(0), [keys.root]), new InvalidMetadata("root", "version", "is not an integer from 1 to 2^53-1")],
    [
      "expires without Z",
      "root",
      () => sign(rootSigned(1, (signed) => (signed.expires = "2027-12-01T00:00:00")), [keys.root]),
      new InvalidMetadata("root", "expires", '"2027-12-01T00:00:00" is not a UTC time YYYY-MM-DDTHH:MM:SSZ'),
    ],
    [
      "spec version 2",
      "root",
      () => sign(rootSigned(1, (signed) => (signed.spec_version = "2.0.0")), [keys.root]),
      new InvalidMetadata("root", "spec_version", '"2.0.0" is not a supported 1.x or 1.x.y version'),
    ],
    [
      "keyid listed twice for a role",
      "root",
      () => sign(rootSigned(1, (signed) => ((signed.roles as JsonObject).snapshot = { keyids: [keys.snapshot.keyid, keys.snapshot.keyid], threshold: 2 })), [keys.root]),
      new InvalidMetadata("root", "roles.snapshot.keyids", "lists a keyid twice"),
    ],
    [
      "timestamp listing a second file",
      "timestamp",
      () => sign({ ...timestampSigned(1, 1), meta: { "snapshot.json": { version: 1 }, "targets.json": { version: 1 } } }, [keys.timestamp]),
      new InvalidMetadata("timestamp", "meta", "must list only snapshot.json, not [snapshot.json, targets.json]"),
    ],
    [
      "target path leaving its folder",
      "targets",
      () =>
        sign(
          { _type: "targets", spec_version: "1.0.34", version: 1, expires: FUTURE, targets: { "current/../../etc/passwd": { length: 1, hashes: { sha256: "00" } } } },
          [keys.targets],
        ),
      new InvalidMetadata("targets", "targets.current/../../etc/passwd", "is not a safe relative path"),
    ],
    ["root served as timestamp", "timestamp", () => sign(valid, [keys.root]), new WrongType("timestamp", "root")],
  ];

  test.each(cases)("rejects %s", (_name, role, bytes, expected) => {
    const error = thrown(() => parseMetadata(role, bytes()));

    expect(error).toBeInstanceOf(expected.constructor as new (...args: never[]) => UpdateError);
    const fields = fieldsOf(error);
    if (expected instanceof InvalidMetadata && expected.field === "file") {
      expect((error as InvalidMetadata).reason).toStartWith('duplicate key "version"');
      fields.reason = expected.reason;
    }
    expect(fields).toEqual(fieldsOf(expected));
  });
});

describe("keys and thresholds", () => {
  test("same key under two keyids counts once", () => {
    const alias = { ...keys.snapshot, keyid: `${keys.snapshot.keyid.slice(0, 60)}aaaa` };
    const root = rootSigned(1, (signed) => {
      (signed.keys as JsonObject)[alias.keyid] = keys.snapshot.record as unknown as JsonObject;
      (signed.roles as JsonObject).timestamp = { keyids: [keys.snapshot.keyid, alias.keyid], threshold: 2 };
    });
    const set = new TrustedMetadataSet(sign(root, [keys.root]), NOW);
    set.finishRootUpdate();

    const error = thrown(() => set.updateTimestamp(sign(timestampSigned(1, 1), [keys.snapshot, alias])));

    expect(error).toBeInstanceOf(ThresholdNotMet);
    expect(fieldsOf(error)).toEqual(fieldsOf(new ThresholdNotMet("timestamp", 1, 2, "trusted root")));
  });

  test("P-256 key as a hex raw point verifies", () => {
    const pair = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const spki = pair.publicKey.export({ format: "der", type: "spki" });
    const key = parsePublicKey({ keytype: "ecdsa-sha2-nistp256", scheme: "ecdsa-sha2-nistp256", keyval: { public: spki.subarray(-65).toString("hex") } });
    const message = new TextEncoder().encode("signed bytes");
    const signature = new Uint8Array(nodeSign("sha256", message, pair.privateKey));

    expect(key?.algorithm).toBe("ecdsa-p256");
    expect(verifySignature(key!, message, signature)).toBe(true);
    expect(verifySignature(key!, new TextEncoder().encode("other bytes"), signature)).toBe(false);
  });

  test.each([
    ["RSA", { keytype: "rsa", scheme: "rsassa-pss-sha256", keyval: { public: "-----BEGIN PUBLIC KEY-----" } }],
    ["malformed Ed25519", { keytype: "ed25519", scheme: "ed25519", keyval: { public: "zz" } }],
    ["P-384", { keytype: "ecdsa", scheme: "ecdsa-sha2-nistp384", keyval: { public: "04" } }],
  ])("unsupported %s key is skipped", (_name, record) => {
    expect(parsePublicKey(record)).toBeUndefined();
  });

  test("sigstore root v14 with high-S signatures verifies", () => {
    const bytes = new Uint8Array(readFileSync(join(import.meta.dir, "vectors", "sigstore-root-v14.json")));
    const root = parseMetadata("root", bytes);
    const n = p256.Point.CURVE().n;
    const highS = root.signatures.filter((item) => item.sig.length > 0 && p256.Signature.fromBytes(item.sig, "der").s > n / 2n);
    // With noble's defaults (low S only) fewer than the threshold of 3 would verify.
    const validWithDefaults = root.signatures.filter((item) => {
      const record = root.signed.keys[item.keyid];
      const key = record === undefined ? undefined : parsePublicKey(record);
      return key !== undefined && item.sig.length > 0 && p256.verify(item.sig, root.signedBytes, key.raw, { format: "der" });
    });

    const set = new TrustedMetadataSet(bytes, new Date("2026-01-01T00:00:00Z"));

    expect(set.root.signed.version).toBe(14);
    expect(highS).toHaveLength(3);
    expect(validWithDefaults).toHaveLength(1);
  });

  test("initial root that its own keys did not sign", () => {
    const error = thrown(() => new TrustedMetadataSet(sign(rootSigned(1), [keys.targets]), NOW));

    expect(fieldsOf(error)).toEqual(fieldsOf(new ThresholdNotMet("root", 0, 1, "trusted root")));
  });

  test("duplicate signature keyid rejects the file", () => {
    const set = trustedSet();
    const bytes = sign(timestampSigned(1, 1), [keys.timestamp, keys.timestamp]);

    const error = thrown(() => set.updateTimestamp(bytes));

    expect(fieldsOf(error)).toEqual(fieldsOf(new BadSignature("timestamp", keys.timestamp.keyid, "the keyid signs twice")));
  });
});

describe("trusted metadata set", () => {
  test.each([
    ["same version", 1, new Rollback("root", 1, 1)],
    ["skipped version", 3, new VersionMismatch("root", 2, 3)],
  ])("root with %s", (_name, version, expected) => {
    const set = new TrustedMetadataSet(sign(rootSigned(1), [keys.root]), NOW);

    const error = thrown(() => set.updateRoot(sign(rootSigned(version), [keys.root])));

    expect(error).toBeInstanceOf(expected.constructor as new (...args: never[]) => UpdateError);
    expect(fieldsOf(error)).toEqual(fieldsOf(expected));
    expect(set.root.signed.version).toBe(1);
  });

  test.each([
    ["a timestamp key added", [keys.timestamp.keyid, keys.targets.keyid], true],
    ["the same timestamp key", [keys.timestamp.keyid], false],
  ])("root update with %s", (_name, keyids, rotated) => {
    const set = new TrustedMetadataSet(sign(rootSigned(1), [keys.root]), NOW);
    const next = rootSigned(2, (signed) => ((signed.roles as JsonObject).timestamp = { keyids, threshold: 1 }));
    set.updateRoot(sign(next, [keys.root]));

    const result = set.finishRootUpdate();
    // The stored timestamp is still validly signed by a listed key; only the rotation rule drops it.
    const loaded = set.loadStoredTimestamp(sign(timestampSigned(2 ** 40, 2 ** 40), [keys.timestamp]));

    expect(result).toEqual({ timestampOrSnapshotKeysRotated: rotated });
    expect(loaded).toBe(!rotated);
  });

  test("snapshot before timestamp is out of order", () => {
    const set = trustedSet();

    const error = thrown(() => set.updateSnapshot(new Uint8Array()));

    expect(fieldsOf(error)).toEqual(fieldsOf(new OutOfOrder("update the snapshot", "the timestamp of this refresh")));
  });

  test("timestamp before the root chain ends is out of order", () => {
    const set = new TrustedMetadataSet(sign(rootSigned(1), [keys.root]), NOW);

    const error = thrown(() => set.updateTimestamp(sign(timestampSigned(1, 1), [keys.timestamp])));

    expect(error).toBeInstanceOf(OutOfOrder);
  });

  test("equal timestamp version keeps the trusted one", () => {
    const set = trustedSet();
    set.loadStoredTimestamp(sign(timestampSigned(3, 3), [keys.timestamp]));

    const result = set.updateTimestamp(sign(timestampSigned(3, 4), [keys.timestamp]));

    expect(result).toBe("unchanged");
    expect(set.timestamp?.signed.snapshot.version).toBe(3);
  });

  test("expired stored timestamp still guards against rollback", () => {
    const set = trustedSet();
    set.loadStoredTimestamp(sign(timestampSigned(5, 5, PAST), [keys.timestamp]));

    const error = thrown(() => set.updateTimestamp(sign(timestampSigned(4, 5), [keys.timestamp])));

    expect(fieldsOf(error)).toEqual(fieldsOf(new Rollback("timestamp", 5, 4)));
  });

  test("timestamp lowering the snapshot version", () => {
    const set = trustedSet();
    set.loadStoredTimestamp(sign(timestampSigned(5, 5), [keys.timestamp]));

    const error = thrown(() => set.updateTimestamp(sign(timestampSigned(6, 4), [keys.timestamp])));

    expect(fieldsOf(error)).toEqual(fieldsOf(new Rollback("snapshot.json in timestamp", 5, 4)));
  });

  test("expired snapshot is rejected", () => {
    const set = trustedSet();
    const snapshot = sign({ _type: "snapshot", spec_version: "1.0.34", version: 1, expires: PAST, meta: { "targets.json": { version: 1 } } }, [keys.snapshot]);
    set.updateTimestamp(sign({ ...timestampSigned(1, 1), meta: { "snapshot.json": metaOf(1, snapshot) } }, [keys.timestamp]));

    const error = thrown(() => set.updateSnapshot(snapshot));

    expect(fieldsOf(error)).toEqual(fieldsOf(new Expired("snapshot", new Date(PAST), NOW)));
  });
});

describe("time floor", () => {
  let folder = "";
  afterEach(() => {
    rmSync(folder, { recursive: true, force: true });
  });

  test.each([
    ["a small step back within tolerance", -299_000],
    ["a step forward", 60_000],
  ])("accepts %s", (_name, offsetMs) => {
    folder = mkdtempSync(join(tmpdir(), "boxd-floor-"));
    const floor = new TimeFloor(folder);
    floor.advance(NOW);

    expect(() => floor.check(new Date(NOW.getTime() + offsetMs))).not.toThrow();
  });

  test("rejects a step back beyond tolerance", () => {
    folder = mkdtempSync(join(tmpdir(), "boxd-floor-"));
    const floor = new TimeFloor(folder);
    floor.advance(NOW);
    const now = new Date(NOW.getTime() - 301_000);

    const error = thrown(() => floor.check(now));

    expect(error).toBeInstanceOf(ClockWentBackwards);
    expect(fieldsOf(error)).toEqual(fieldsOf(new ClockWentBackwards(now, NOW)));
  });

  test("never moves down", () => {
    folder = mkdtempSync(join(tmpdir(), "boxd-floor-"));
    const floor = new TimeFloor(folder);
    floor.advance(NOW);

    floor.advance(new Date(NOW.getTime() - 86_400_000));

    expect(floor.read()).toEqual(NOW);
  });

  test("damaged file reads as no floor", () => {
    folder = mkdtempSync(join(tmpdir(), "boxd-floor-"));
    writeFileSync(join(folder, "latest-known-time.json"), "{not json");

    expect(new TimeFloor(folder).read()).toBeUndefined();
  });
});

describe("HTTP fetcher", () => {
  test("404 is a DownloadError with the status", async () => {
    const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("", { status: 404 }) });
    const url = `http://127.0.0.1:${server.port}/timestamp.json`;
    try {
      const error = await new HttpFetcher().fetchBytes(url, 100, "timestampMaxBytes").catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(DownloadError);
      expect((error as DownloadError).status).toBe(404);
      expect((error as DownloadError).url).toBe(url);
    } finally {
      server.stop(true);
    }
  });
});
