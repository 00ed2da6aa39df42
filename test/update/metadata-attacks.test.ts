/**
 * Attacks on metadata and trust, each against a real vendor repository
 * served over loopback HTTP. Every failing case asserts the exact error
 * class and fields, and what the client has on disk afterwards.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { p256 } from "@noble/curves/nist.js";
import {
  BadSignature,
  ClockWentBackwards,
  DownloadError,
  DownloadTooLarge,
  Expired,
  LengthOrHashMismatch,
  MetaFileMissing,
  Rollback,
  ThresholdNotMet,
  UpdateError,
  VersionMismatch,
  WrongType,
} from "../../update/tuf/errors.ts";
import type { JsonObject } from "../../update/tuf/json.ts";
import { generateKey, loadKeys, signEnvelope } from "../../update/vendor/keys.ts";
import { DAY_MS, START_TIME, createHarness, serveForgedChain, signedOf, rejection, fieldsOf, storedVersion, targetRequests, type Harness } from "./harness.ts";

let harness: Harness | undefined;

afterEach(() => {
  harness?.cleanup();
  harness = undefined;
});

function setUp(options: Parameters<typeof createHarness>[0] = {}): Harness {
  harness = createHarness(options);
  return harness;
}

/** Checks once so the client trusts the published repository, and returns what it stored. */
async function trustPublished(h: Harness): Promise<ReturnType<Harness["stored"]>> {
  await h.client().check();
  return h.stored();
}

interface FailureCase {
  name: string;
  options?: Parameters<typeof createHarness>[0];
  /** Roles accepted and stored before the attacked one failed; every other stored file must be unchanged. */
  advances?: Array<"timestamp" | "snapshot">;
  attack: (h: Harness) => void;
  expected: (h: Harness) => UpdateError;
}

const refreshFailures: FailureCase[] = [
  {
    name: "1 timestamp signed by a key not in root",
    attack: (h) => {
      serveForgedChain(h, { timestamp: { signers: [generateKey("ed25519").key] } });
    },
    expected: () => new ThresholdNotMet("timestamp", 0, 1, "trusted root"),
  },
  {
    name: "2 snapshot 2-of-3 with one valid signature and one garbage",
    advances: ["timestamp"],
    options: { roles: { snapshot: { keys: 3, threshold: 2 } } },
    attack: (h) => {
      const [first, second] = h.repo.keysOf("snapshot");
      serveForgedChain(h, {
        snapshot: {
          signers: [first!],
          envelope: (envelope) => {
            envelope.signatures.push({ keyid: second!.keyid, sig: "ab".repeat(64) });
          },
        },
      });
    },
    expected: () => new ThresholdNotMet("snapshot", 1, 2, "trusted root"),
  },
  {
    name: "3 snapshot 3-of-3 with one signature repeated three times",
    advances: ["timestamp"],
    options: { roles: { snapshot: { keys: 3, threshold: 3 } } },
    attack: (h) => {
      const [first] = h.repo.keysOf("snapshot");
      serveForgedChain(h, {
        snapshot: {
          signers: [first!],
          envelope: (envelope) => {
            const only = envelope.signatures[0]!;
            envelope.signatures.push({ ...only }, { ...only });
          },
        },
      });
    },
    expected: (h) => new BadSignature("snapshot", h.repo.keysOf("snapshot")[0]!.keyid, "the keyid signs twice"),
  },
  {
    name: "6 unknown signed field stripped in transit",
    advances: ["timestamp", "snapshot"],
    attack: (h) => {
      serveForgedChain(h, {
        targets: {
          edit: (signed) => {
            signed.x = "kept";
          },
          bytes: (bytes) => {
            const envelope = JSON.parse(new TextDecoder().decode(bytes));
            delete envelope.signed.x;
            return new TextEncoder().encode(JSON.stringify(envelope));
          },
        },
      });
    },
    expected: () => new ThresholdNotMet("targets", 0, 1, "trusted root"),
  },
  {
    name: "7 targets file served as the snapshot",
    advances: ["timestamp"],
    attack: (h) => {
      const versions = serveForgedChain(h, {});
      const targets = h.server.overrides.get(`metadata/${versions.targets}.targets.json`)!;
      serveForgedChain(h, { snapshot: { bytes: () => (targets as { bytes: Uint8Array }).bytes } });
    },
    expected: () => new WrongType("snapshot", "targets"),
  },
  {
    name: "8 repository serves an expired timestamp",
    attack: (h) => {
      serveForgedChain(h, {
        timestamp: {
          edit: (signed) => {
            signed.expires = "2026-11-30T00:00:00Z";
          },
        },
      });
    },
    expected: () => new Expired("timestamp", new Date("2026-11-30T00:00:00Z"), START_TIME),
  },
  {
    name: "12 timestamp rolled back from v5 to v4",
    attack: (h) => {
      h.server.overrides.set("metadata/timestamp.json", { kind: "bytes", bytes: oldTimestamp.get(h)! });
    },
    expected: () => new Rollback("timestamp", 5, 4),
  },
  {
    name: "13 snapshot lists an older targets version",
    advances: ["timestamp"],
    attack: (h) => {
      serveForgedChain(h, {
        snapshot: {
          edit: (signed) => {
            (signed.meta as JsonObject)["targets.json"] = { version: 4 };
          },
        },
      });
    },
    expected: () => new Rollback("targets.json", 5, 4),
  },
  {
    name: "17 snapshot bytes differ from the hash the timestamp lists",
    advances: ["timestamp"],
    attack: (h) => {
      const versions = serveForgedChain(h, {});
      const path = `metadata/${versions.snapshot}.snapshot.json`;
      const bytes = (h.server.overrides.get(path) as { bytes: Uint8Array }).bytes;
      const tampered = new TextEncoder().encode(new TextDecoder().decode(bytes).replace('"version": 6', '"version": 7'));
      h.server.overrides.set(path, { kind: "bytes", bytes: tampered });
    },
    expected: () => new LengthOrHashMismatch("snapshot.json", "sha256", "listed digest", "received digest"),
  },
  {
    name: "17 old snapshot served where the timestamp lists a newer one",
    advances: ["timestamp"],
    attack: (h) => {
      const versions = serveForgedChain(h, {
        timestamp: {
          edit: (signed) => {
            signed.meta = { "snapshot.json": { version: 6 } };
          },
        },
      });
      h.server.overrides.set(`metadata/${versions.snapshot}.snapshot.json`, { kind: "bytes", bytes: h.published("5.snapshot.json") });
    },
    expected: () => new VersionMismatch("snapshot", 6, 5),
  },
  {
    name: "18 old targets served where the snapshot lists a newer one",
    advances: ["timestamp", "snapshot"],
    attack: (h) => {
      const versions = serveForgedChain(h, {
        snapshot: {
          edit: (signed) => {
            (signed.meta as JsonObject)["targets.json"] = { version: 6 };
          },
        },
      });
      h.server.overrides.set(`metadata/${versions.targets}.targets.json`, { kind: "bytes", bytes: h.published("5.targets.json") });
    },
    expected: () => new VersionMismatch("targets", 6, 5),
  },
  {
    name: "20 timestamp.json served as a 1 GB stream with a length",
    attack: (h) => {
      h.server.overrides.set("metadata/timestamp.json", { kind: "stream", total: 1_000_000_000, declareLength: true });
    },
    expected: (h) => new DownloadTooLarge(`${h.server.baseUrl}/metadata/timestamp.json`, 16_384, "timestampMaxBytes"),
  },
  {
    name: "20 timestamp.json served as a 1 GB stream without a length",
    attack: (h) => {
      h.server.overrides.set("metadata/timestamp.json", { kind: "stream", total: 1_000_000_000, declareLength: false });
    },
    expected: (h) => new DownloadTooLarge(`${h.server.baseUrl}/metadata/timestamp.json`, 16_384, "timestampMaxBytes"),
  },
  {
    name: "next root served as an endless stream",
    attack: (h) => {
      h.server.overrides.set("metadata/2.root.json", { kind: "stream", total: 100_000_000, declareLength: false });
    },
    expected: (h) => new DownloadTooLarge(`${h.server.baseUrl}/metadata/2.root.json`, 512_000, "rootMaxBytes"),
  },
  {
    name: "next root answered with a server error",
    attack: (h) => {
      h.server.overrides.set("metadata/2.root.json", { kind: "status", status: 500 });
    },
    expected: (h) => new DownloadError(`${h.server.baseUrl}/metadata/2.root.json`, 500, "HTTP status 500"),
  },
  {
    name: "snapshot longer than the timestamp lists",
    advances: ["timestamp"],
    attack: (h) => {
      const versions = serveForgedChain(h, {});
      const path = `metadata/${versions.snapshot}.snapshot.json`;
      const bytes = (h.server.overrides.get(path) as { bytes: Uint8Array }).bytes;
      h.server.overrides.set(path, { kind: "bytes", bytes: Buffer.concat([bytes, Buffer.alloc(4096, 0x20)]) });
      snapshotLength.set(h, bytes.length);
    },
    expected: (h) => new DownloadTooLarge(`${h.server.baseUrl}/metadata/6.snapshot.json`, snapshotLength.get(h)!, "snapshot length listed in timestamp"),
  },
];

/** Length of the forged snapshot, kept per harness for the size-cap case. */
const snapshotLength = new Map<Harness, number>();

/** Timestamp bytes kept per harness for the rollback case. */
const oldTimestamp = new Map<Harness, Uint8Array>();

describe("refresh rejects", () => {
  test.each(refreshFailures.map((item) => [item.name, item] as const))("%s", async (_name, item) => {
    const h = setUp(item.options);
    // Publish up to v5 of every role, keeping the v4 timestamp, so rollback cases have room below.
    for (let version = 2; version <= 5; version += 1) {
      if (version === 5) oldTimestamp.set(h, h.published("timestamp.json"));
      h.publish();
    }
    const before = await trustPublished(h);
    h.server.requests.length = 0;

    item.attack(h);
    const error = await rejection(() => h.client().check());

    const expected = item.expected(h);
    expect(error).toBeInstanceOf(expected.constructor as new (...args: never[]) => UpdateError);
    expect(fieldsOf(error)).toEqual(expectedFields(error, expected));
    expect(unchangedRoles(h, before, item.advances ?? [])).toEqual(before);
    expect(targetRequests(h)).toEqual([]);
  });
});

/**
 * Returns the stored files with each role in `advances` replaced by its
 * old copy, after checking that it moved exactly one version up (the
 * forged chain's version). The result equals `before` when nothing else changed.
 */
function unchangedRoles(h: Harness, before: ReturnType<Harness["stored"]>, advances: Array<"timestamp" | "snapshot">): ReturnType<Harness["stored"]> {
  const now = h.stored();
  for (const role of advances) {
    expect({ role, version: storedVersion(h, role) }).toEqual({ role, version: JSON.parse(before[role]!).signed.version + 1 });
    now[role] = before[role];
  }
  return now;
}

/** Hash mismatches cannot know the received digest up front, so those fields are taken from the error. */
function expectedFields(actual: UpdateError, expected: UpdateError): Record<string, unknown> {
  const fields = fieldsOf(expected);
  if (actual instanceof LengthOrHashMismatch && expected instanceof LengthOrHashMismatch) {
    expect(actual.expected).not.toEqual(actual.received);
    return { ...fields, expected: actual.expected, received: actual.received };
  }
  return fields;
}

describe("endless data", () => {
  test("20 stream is cut at the cap", async () => {
    const h = setUp();
    await trustPublished(h);
    h.server.overrides.set("metadata/timestamp.json", { kind: "stream", total: 1_000_000_000, declareLength: false });

    await rejection(() => h.client().check());

    // The server produces chunks only as the client reads. Socket buffers let it run a few MB ahead
    // (4.8 MB seen on loopback), so a count far below 1 GB shows that the client stopped reading.
    expect(h.server.streamedBytes).toBeLessThan(50_000_000);
  });
});

describe("signatures accepted", () => {
  test("4 timestamp 1-of-2 with an empty second signature", async () => {
    const h = setUp({ roles: { timestamp: { keys: 2, threshold: 1 } } });
    await trustPublished(h);
    const [first, second] = h.repo.keysOf("timestamp");
    const versions = serveForgedChain(h, {
      timestamp: {
        signers: [first!],
        envelope: (envelope) => {
          envelope.signatures.push({ keyid: second!.keyid, sig: "" });
        },
      },
    });

    await h.client().check();

    expect(storedVersion(h, "timestamp")).toBe(versions.timestamp);
  });

  test("4 timestamp 1-of-2 with a wrong second signature", async () => {
    const h = setUp({ roles: { timestamp: { keys: 2, threshold: 1 } } });
    await trustPublished(h);
    const [first, second] = h.repo.keysOf("timestamp");
    const versions = serveForgedChain(h, {
      timestamp: {
        signers: [first!],
        envelope: (envelope) => {
          envelope.signatures.push({ keyid: second!.keyid, sig: envelope.signatures[0]!.sig });
        },
      },
    });

    await h.client().check();

    expect(storedVersion(h, "timestamp")).toBe(versions.timestamp);
  });

  test("5 ECDSA repository with high-S DER signatures", async () => {
    const h = setUp({ keyType: "ecdsa" });
    await trustPublished(h);
    const versions = serveForgedChain(h, { timestamp: { envelope: (envelope) => envelope.signatures.forEach(makeHighS) } });
    const served = JSON.parse(new TextDecoder().decode((h.server.overrides.get("metadata/timestamp.json") as { bytes: Uint8Array }).bytes));
    const signature = p256.Signature.fromBytes(Buffer.from(served.signatures[0].sig, "hex"), "der");

    await h.client().check();

    expect(signature.s > p256.Point.CURVE().n / 2n).toBe(true);
    expect(storedVersion(h, "timestamp")).toBe(versions.timestamp);
  });

  test("5 ECDSA signature with one byte flipped", async () => {
    const h = setUp({ keyType: "ecdsa" });
    const before = await trustPublished(h);
    serveForgedChain(h, {
      timestamp: {
        envelope: (envelope) => {
          const sig = envelope.signatures[0]!.sig;
          const last = sig.slice(-2) === "00" ? "01" : "00";
          envelope.signatures[0]!.sig = sig.slice(0, -2) + last;
        },
      },
    });

    const error = await rejection(() => h.client().check());

    expect(error).toBeInstanceOf(ThresholdNotMet);
    expect(fieldsOf(error)).toEqual(fieldsOf(new ThresholdNotMet("timestamp", 0, 1, "trusted root")));
    expect(h.stored()).toEqual(before);
  });

  test("6 unknown signed field kept byte for byte", async () => {
    const h = setUp();
    await trustPublished(h);
    const versions = serveForgedChain(h, {
      targets: {
        edit: (signed) => {
          signed.x = "kept";
        },
      },
    });
    const served = (h.server.overrides.get(`metadata/${versions.targets}.targets.json`) as { bytes: Uint8Array }).bytes;

    await h.client().check();

    expect(h.stored().targets).toBe(new TextDecoder().decode(served));
  });
});

/** Rewrites a DER ECDSA signature to its high-S twin (s → n - s), as OpenSSL may produce. */
function makeHighS(entry: { sig: string }): void {
  const signature = p256.Signature.fromBytes(Buffer.from(entry.sig, "hex"), "der");
  const n = p256.Point.CURVE().n;
  if (signature.s > n / 2n) return;
  entry.sig = Buffer.from(new p256.Signature(signature.r, n - signature.s).toBytes("der")).toString("hex");
}

describe("expiry and freeze", () => {
  test("9 expired stored timestamp is replaced by a fresh one", async () => {
    const h = setUp();
    await trustPublished(h);
    h.clock.now = new Date(START_TIME.getTime() + 18 * DAY_MS);
    h.publish();

    await h.client().check();

    expect(storedVersion(h, "timestamp")).toBe(2);
  });

  test("10 expired intermediate root is walked past", async () => {
    const h = setUp();
    await trustPublished(h);
    h.repo.resignRoot(new Date(START_TIME.getTime() - 400 * DAY_MS));
    h.repo.resignRoot(START_TIME);

    await h.client().check();

    expect(storedVersion(h, "root")).toBe(3);
  });

  test("10 expired final root fails after it is stored", async () => {
    const h = setUp();
    const before = await trustPublished(h);
    h.repo.resignRoot(new Date(START_TIME.getTime() - 400 * DAY_MS));

    const error = await rejection(() => h.client().check());

    const expires = new Date(START_TIME.getTime() - 35 * DAY_MS);
    expect(fieldsOf(error)).toEqual(fieldsOf(new Expired("root", expires, START_TIME)));
    expect(error).toBeInstanceOf(Expired);
    expect(storedVersion(h, "root")).toBe(2);
    const { root: _root, ...rest } = h.stored();
    const { root: _beforeRoot, ...beforeRest } = before;
    expect(rest).toEqual(beforeRest);
  });

  test("11 clock set back a year with replayed metadata", async () => {
    const h = setUp();
    const yearOld = h.published("timestamp.json");
    h.clock.now = new Date(START_TIME.getTime() + 365 * DAY_MS);
    h.repo.resignRoot(h.clock.now);
    h.publish();
    const before = await trustPublished(h);
    const client = h.client();
    h.clock.now = START_TIME;
    h.server.overrides.set("metadata/timestamp.json", { kind: "bytes", bytes: yearOld });
    h.server.requests.length = 0;

    const checkError = await rejection(() => client.check());
    const planError = await rejection(() => client.plan());

    const expected = new ClockWentBackwards(START_TIME, new Date(START_TIME.getTime() + 365 * DAY_MS));
    expect(checkError).toBeInstanceOf(ClockWentBackwards);
    expect(fieldsOf(checkError)).toEqual(fieldsOf(expected));
    expect(planError).toBeInstanceOf(ClockWentBackwards);
    expect(h.stored()).toEqual(before);
    expect(h.server.requests).toEqual([]);
  });
});

describe("rollback and fast-forward", () => {
  test("14 snapshot drops a file the trusted one listed", async () => {
    const h = setUp();
    serveForgedChain(h, {
      snapshot: {
        edit: (signed) => {
          (signed.meta as JsonObject)["channel-upcoming.json"] = { version: 1 };
        },
      },
    });
    const before = await trustPublished(h);
    h.server.overrides.clear();
    h.publish();
    h.publish();

    const error = await rejection(() => h.client().check());

    expect(error).toBeInstanceOf(MetaFileMissing);
    expect(fieldsOf(error)).toEqual(fieldsOf(new MetaFileMissing("snapshot", "channel-upcoming.json")));
    expect(h.stored().snapshot).toBe(before.snapshot);
    expect(h.stored().targets).toBe(before.targets);
  });

  test("14 dropped file is accepted after a snapshot key rotation", async () => {
    const h = setUp();
    serveForgedChain(h, {
      snapshot: {
        edit: (signed) => {
          (signed.meta as JsonObject)["channel-upcoming.json"] = { version: 1 };
        },
      },
    });
    await trustPublished(h);
    h.server.overrides.clear();
    h.repo.rotateKeys("snapshot", { keys: 1, threshold: 1 });
    h.publish();

    await h.client().check();

    expect(JSON.parse(h.stored().snapshot!).signed.meta).not.toHaveProperty("channel-upcoming.json");
  });

  test("15 fast-forwarded timestamp recovered by key rotation", async () => {
    const h = setUp();
    serveForgedChain(h, {
      timestamp: {
        edit: (signed) => {
          signed.version = 2 ** 40;
        },
      },
    });
    await trustPublished(h);
    expect(storedVersion(h, "timestamp")).toBe(2 ** 40);
    h.server.overrides.clear();
    h.publish();
    const stuck = await rejection(() => h.client().check());

    h.repo.rotateKeys("timestamp", { keys: 1, threshold: 1 });
    h.publish();
    await h.client().check();

    expect(fieldsOf(stuck)).toEqual(fieldsOf(new Rollback("timestamp", 2 ** 40, 2)));
    expect(storedVersion(h, "timestamp")).toBe(3);
    expect(storedVersion(h, "root")).toBe(2);
  });
});

describe("key rotation", () => {
  test("root chain stops at the rotation limit and resumes next refresh", async () => {
    const h = setUp();
    for (let step = 0; step < 3; step += 1) h.repo.resignRoot(START_TIME);
    const client = h.client({ limits: { maxRootRotations: 2 } });

    await client.check();
    const afterFirst = storedVersion(h, "root");
    await client.check();

    expect(afterFirst).toBe(3);
    expect(storedVersion(h, "root")).toBe(4);
  });

  test("24 root chain with all five root keys replaced", async () => {
    const h = setUp({ roles: { root: { keys: 5, threshold: 3 } } });
    await trustPublished(h);
    h.repo.resignRoot(START_TIME);
    h.repo.rotateKeys("root", { keys: 5, threshold: 3 });
    h.repo.resignRoot(START_TIME);

    await h.client().check();

    expect(storedVersion(h, "root")).toBe(4);
  });

  test.each([
    ["signed only by the new keys", "new" as const, new ThresholdNotMet("root", 0, 1, "trusted root")],
    ["signed only by the old keys", "old" as const, new ThresholdNotMet("root", 0, 1, "new root")],
  ])("25 root v2 %s", async (_name, signers, expected) => {
    const h = setUp();
    const before = await trustPublished(h);
    h.repo.rotateKeys("root", { keys: 1, threshold: 1 });
    const keys = signers === "new" ? h.repo.keysOf("root") : loadKeys(join(h.repo.keysFolder, "retired"), "root");
    const forged = signEnvelope(signedOf(h, "2.root.json"), keys);
    h.server.overrides.set("metadata/2.root.json", { kind: "bytes", bytes: forged });

    const error = await rejection(() => h.client().check());

    expect(error).toBeInstanceOf(ThresholdNotMet);
    expect(fieldsOf(error)).toEqual(fieldsOf(expected));
    expect(h.stored()).toEqual(before);
  });

  test("26 targets still signed with the rotated-out key", async () => {
    const h = setUp();
    const before = await trustPublished(h);
    const oldTargetsKeys = h.repo.keysOf("targets");
    h.repo.rotateKeys("targets", { keys: 1, threshold: 1 });
    serveForgedChain(h, { targets: { signers: oldTargetsKeys } });

    const error = await rejection(() => h.client().check());

    expect(error).toBeInstanceOf(ThresholdNotMet);
    expect(fieldsOf(error)).toEqual(fieldsOf(new ThresholdNotMet("targets", 0, 1, "trusted root")));
    expect(storedVersion(h, "root")).toBe(2);
    expect(h.stored().targets).toBe(before.targets);
  });
});
