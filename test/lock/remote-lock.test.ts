import { afterEach, beforeEach, describe, expect, setSystemTime, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { signEnvelope } from "../../update/lock/keys.ts";
import {
  CheckInFailed,
  CheckInInvalid,
  DeviceLocked,
  LockSettingInvalid,
  StatementFetchFailed,
  StatementMalformed,
  StatementReplayed,
  StatementSignatureInvalid,
  StatementTooLarge,
  StatementUntrustedKey,
  StatementWrongDevice,
  UnlockNonceMismatch,
  publicKeyObject,
  readCheckIn,
  type Ed25519KeyPair,
  type LockStatement,
  type LockStatementBody,
  type RemoteLock,
} from "../../update/lock/index.ts";
import { DEFAULT_LOCK_LIMITS } from "../../update/lock/constants.ts";
import { LockWorld } from "./harness.ts";

const LOCK_MESSAGE = "Reported stolen. Please return this box.";
const LOCK_CONTACT = "Test lab front desk, +44 20 0000 0000";
const RELEASE = { version: "2.4.0", channel: "current" };

let world: LockWorld;

beforeEach(() => {
  world = new LockWorld();
});

afterEach(async () => {
  setSystemTime();
  await world.close();
});

/** Builds a statement signed by `key` (the lock authority unless given). */
function statement(fields: Partial<LockStatementBody>, key: Ed25519KeyPair = world.authority): LockStatement {
  const body: LockStatementBody = {
    type: "boxd-lock-statement",
    deviceId: world.deviceId,
    state: "locked",
    sequence: 1,
    message: LOCK_MESSAGE,
    contact: LOCK_CONTACT,
    ...fields,
  };
  return signEnvelope(body, key);
}

function publish(fields: Partial<LockStatementBody>, key?: Ed25519KeyPair): LockStatement {
  const signed = statement(fields, key);
  world.publishRaw(signed);
  return signed;
}

/** Reads `lock.json` as persisted, or null if absent. */
function persisted(): { state: string; sequence: number; deviceId: string } | null {
  const path = join(world.stateDir, "lock.json");
  return existsSync(path) ? JSON.parse(readFileSync(path, "utf8")) : null;
}

function latestNonce(): string {
  const report = world.checkIns.at(-1);
  if (report === undefined) {
    throw new Error("no check-in received");
  }
  return report.signed.nonce;
}

/** Locks the box at `sequence` through the repository. */
async function lockAt(lock: RemoteLock, sequence: number): Promise<void> {
  publish({ sequence });
  await lock.fetchAndApplyLockStatement();
}

/** Unlocks the box at `sequence`: check-in, unlock with that nonce, fetch. */
async function unlockAt(lock: RemoteLock, sequence: number): Promise<void> {
  await lock.checkIn(RELEASE);
  publish({ state: "unlocked", sequence, nonce: latestNonce(), message: "", contact: "" });
  await lock.fetchAndApplyLockStatement();
}

describe("lock applied", () => {
  test("valid lock persists before acknowledgement", async () => {
    const lock = world.open();
    const seenOnDisk: unknown[] = [];
    lock.onChange(() => seenOnDisk.push(persisted()));
    publish({ sequence: 7 });

    const outcome = await lock.fetchAndApplyLockStatement();

    expect(outcome).toEqual({
      kind: "applied",
      status: { locked: true, sequence: 7, message: LOCK_MESSAGE, contact: LOCK_CONTACT },
    });
    expect(seenOnDisk).toEqual([expect.objectContaining({ state: "locked", sequence: 7, deviceId: world.deviceId })]);
    expect(persisted()).toEqual(expect.objectContaining({ state: "locked", sequence: 7 }));
    expect(statSync(join(world.stateDir, "lock.json")).mode & 0o777).toBe(0o600);
    expect(lock.isLocked()).toBe(true);
  });

  test("guard raises DeviceLocked with contact", async () => {
    const lock = world.open();
    await lockAt(lock, 7);

    let caught: unknown;
    try {
      lock.assertNotLocked("update check");
    } catch (error) {
      caught = error;
    }

    expect(caught).toBeInstanceOf(DeviceLocked);
    expect(caught).toMatchObject({ action: "update check", sequence: 7, statusMessage: LOCK_MESSAGE, contact: LOCK_CONTACT });
    expect((caught as Error).message).toContain(LOCK_CONTACT);
  });

  test("guard passes while unlocked", () => {
    const lock = world.open();

    expect(() => lock.assertNotLocked("update check")).not.toThrow();
    expect(lock.status()).toEqual({ locked: false, sequence: 0, message: "", contact: "" });
  });

  test("lock survives restart", async () => {
    await lockAt(world.open(), 7);

    const restarted = world.open();

    expect(restarted.isLocked()).toBe(true);
    expect(restarted.status()).toEqual({ locked: true, sequence: 7, message: LOCK_MESSAGE, contact: LOCK_CONTACT });
  });

  test("wiped state relearns lock at boot", async () => {
    await lockAt(world.open(), 7);
    rmSync(world.stateDir, { recursive: true });

    const rebooted = world.open();
    const unlockedBeforeRefresh = rebooted.isLocked();
    const result = await rebooted.refresh(RELEASE);

    expect(unlockedBeforeRefresh).toBe(false);
    expect(result.statement).toEqual(expect.objectContaining({ kind: "applied" }));
    expect(rebooted.isLocked()).toBe(true);
    expect(persisted()).toEqual(expect.objectContaining({ state: "locked", sequence: 7 }));
  });

  test("identical re-send changes nothing", async () => {
    const lock = world.open();
    await lockAt(lock, 7);
    const before = readFileSync(join(world.stateDir, "lock.json"), "utf8");
    let changes = 0;
    lock.onChange(() => changes++);

    const outcome = await lock.fetchAndApplyLockStatement();

    expect(outcome.kind).toBe("unchanged");
    expect(changes).toBe(0);
    expect(readFileSync(join(world.stateDir, "lock.json"), "utf8")).toBe(before);
  });

  test("no statement in repository", async () => {
    const lock = world.open();

    const outcome = await lock.fetchAndApplyLockStatement();

    expect(outcome).toEqual({ kind: "none" });
    expect(persisted()).toBeNull();
  });

  test("lock ignores clock, release and channel", async () => {
    await lockAt(world.open(), 7);

    // A thief sets the clock back and forward, but the lock reads no clock at all.
    setSystemTime(new Date("2001-01-01T00:00:00Z"));
    const afterClockBack = world.open();
    setSystemTime(new Date("2099-01-01T00:00:00Z"));
    const afterClockForward = world.open();
    setSystemTime();

    // Reinstalling another release or switching channel only changes what the check-in reports.
    const reinstalled = world.open();
    await reinstalled.checkIn({ version: "1.0.0", channel: "upcoming" });

    expect(afterClockBack.isLocked()).toBe(true);
    expect(afterClockForward.isLocked()).toBe(true);
    expect(reinstalled.isLocked()).toBe(true);
    for (const action of ["update check", "install", "channel change", "pin change", "manual rollback"]) {
      expect(() => reinstalled.assertNotLocked(action)).toThrow(DeviceLocked);
    }
    expect(world.checkIns.at(-1)?.signed).toMatchObject({ locked: true, lockSequence: 7, version: "1.0.0", channel: "upcoming" });
  });
});

describe("unlock applied", () => {
  test("unlock with latest nonce", async () => {
    const lock = world.open();
    await lockAt(lock, 7);

    await unlockAt(lock, 8);

    expect(lock.isLocked()).toBe(false);
    expect(persisted()).toEqual(expect.objectContaining({ state: "unlocked", sequence: 8 }));
    expect(world.open().isLocked()).toBe(false);
  });

  test("unlock matched after restart", async () => {
    const lock = world.open();
    await lockAt(lock, 7);
    await lock.checkIn(RELEASE);
    publish({ state: "unlocked", sequence: 8, nonce: latestNonce(), message: "", contact: "" });

    const restarted = world.open();
    const result = await restarted.refresh(RELEASE);

    expect(result.statement).toEqual(expect.objectContaining({ kind: "applied" }));
    expect(restarted.isLocked()).toBe(false);
    expect(world.open().isLocked()).toBe(false);
  });

  test.each([
    { name: "previous check-in", checkInsAfter: 1 },
    { name: "oldest check-in in window", checkInsAfter: DEFAULT_LOCK_LIMITS.nonceWindowCheckIns - 1 },
  ])("unlock with nonce of $name", async ({ checkInsAfter }) => {
    const lock = world.open();
    await lockAt(lock, 7);
    await lock.checkIn(RELEASE);
    const nonce = latestNonce();
    for (let count = 0; count < checkInsAfter; count += 1) {
      await lock.checkIn(RELEASE);
    }
    publish({ state: "unlocked", sequence: 8, nonce, message: "", contact: "" });

    const restarted = world.open();
    const outcome = await restarted.fetchAndApplyLockStatement();

    expect(outcome).toEqual(expect.objectContaining({ kind: "applied" }));
    expect(restarted.isLocked()).toBe(false);
  });

  test("applied unlock cannot be replayed", async () => {
    const lock = world.open();
    await lockAt(lock, 7);
    await unlockAt(lock, 8);
    const unlock = statement({ state: "unlocked", sequence: 8, nonce: latestNonce(), message: "", contact: "" });
    await lockAt(lock, 9);
    world.publishRaw(unlock);

    const result = lock.fetchAndApplyLockStatement();

    await expect(result).rejects.toBeInstanceOf(StatementReplayed);
    expect(lock.isLocked()).toBe(true);
  });

  test("refresh fetches before rotating nonce", async () => {
    const lock = world.open();
    await lockAt(lock, 7);
    await lock.refresh(RELEASE);
    publish({ state: "unlocked", sequence: 8, nonce: latestNonce(), message: "", contact: "" });

    const result = await lock.refresh(RELEASE);

    expect(result.statement).toEqual(expect.objectContaining({ kind: "applied" }));
    expect(result.checkIn).toEqual(expect.objectContaining({ status: 200 }));
    expect(lock.isLocked()).toBe(false);
  });
});

type RejectionCase = {
  name: string;
  /** Brings the box into its state before the attack. */
  setup: (lock: RemoteLock) => Promise<void>;
  /** Publishes what the attacker or a faulty repository serves. */
  attack: (lock: RemoteLock) => Promise<void> | void;
  error: new (...args: never[]) => Error;
  fields: (lock: RemoteLock) => Record<string, unknown>;
  /** State on disk and after a restart; null when no statement was ever applied. */
  after: { state: string; sequence: number } | null;
};

const rejections: RejectionCase[] = [
  {
    name: "lock for another device",
    setup: async () => {},
    attack: () => world.publishRaw(statement({ deviceId: "boxd-ffffffffffffffff", sequence: 3 })),
    error: StatementWrongDevice,
    fields: () => ({ reason: "wrong-device", expectedDeviceId: world.deviceId, actualDeviceId: "boxd-ffffffffffffffff" }),
    after: null,
  },
  {
    name: "older lock replayed after unlock",
    setup: async (lock) => {
      await lockAt(lock, 7);
      await unlockAt(lock, 9);
    },
    attack: () => {
      publish({ sequence: 7 });
    },
    error: StatementReplayed,
    fields: () => ({ reason: "replayed", storedSequence: 9, receivedSequence: 7 }),
    after: { state: "unlocked", sequence: 9 },
  },
  {
    name: "older unlock replayed after lock",
    setup: async (lock) => {
      await lockAt(lock, 4);
      await unlockAt(lock, 5);
      await lockAt(lock, 10);
      await lock.checkIn(RELEASE);
    },
    attack: () => {
      publish({ state: "unlocked", sequence: 5, nonce: latestNonce(), message: "", contact: "" });
    },
    error: StatementReplayed,
    fields: () => ({ reason: "replayed", storedSequence: 10, receivedSequence: 5 }),
    after: { state: "locked", sequence: 10 },
  },
  {
    name: "same sequence, different content",
    setup: (lock) => lockAt(lock, 7),
    attack: () => {
      publish({ sequence: 7, message: "Another text" });
    },
    error: StatementReplayed,
    fields: () => ({ reason: "replayed", storedSequence: 7, receivedSequence: 7 }),
    after: { state: "locked", sequence: 7 },
  },
  {
    name: "signed by targets role key",
    setup: (lock) => lockAt(lock, 7),
    attack: () => {
      publish({ state: "unlocked", sequence: 8, nonce: "ab".repeat(32) }, world.targetsRoleKey);
    },
    error: StatementUntrustedKey,
    fields: () => ({ reason: "untrusted-key", keyIds: [world.targetsRoleKey.keyId], expectedKeyId: world.authority.keyId }),
    after: { state: "locked", sequence: 7 },
  },
  {
    name: "other key claims authority key ID",
    setup: (lock) => lockAt(lock, 7),
    attack: () => {
      const forged = statement({ state: "unlocked", sequence: 8, message: "", contact: "" }, world.targetsRoleKey);
      world.publishRaw({ ...forged, signatures: [{ keyid: world.authority.keyId, sig: forged.signatures[0]?.sig }] });
    },
    error: StatementSignatureInvalid,
    fields: () => ({ reason: "invalid-signature", keyId: world.authority.keyId }),
    after: { state: "locked", sequence: 7 },
  },
  {
    name: "state altered after signing",
    setup: (lock) => lockAt(lock, 7),
    attack: () => {
      const signed = statement({ sequence: 8 });
      world.publishRaw({ ...signed, signed: { ...signed.signed, state: "unlocked" } });
    },
    error: StatementSignatureInvalid,
    fields: () => ({ reason: "invalid-signature", keyId: world.authority.keyId }),
    after: { state: "locked", sequence: 7 },
  },
  {
    name: "unlock without nonce",
    setup: async (lock) => {
      await lockAt(lock, 7);
      await lock.checkIn(RELEASE);
    },
    attack: () => {
      publish({ state: "unlocked", sequence: 8, message: "", contact: "" });
    },
    error: UnlockNonceMismatch,
    fields: () => ({ reason: "nonce-mismatch", expectedNonce: latestNonce(), receivedNonce: null }),
    after: { state: "locked", sequence: 7 },
  },
  {
    name: "unlock with nonce older than window",
    setup: async (lock) => {
      await lockAt(lock, 7);
      await lock.checkIn(RELEASE);
    },
    attack: async (lock) => {
      const oldest = latestNonce();
      for (let count = 0; count < DEFAULT_LOCK_LIMITS.nonceWindowCheckIns; count += 1) {
        await lock.checkIn(RELEASE);
      }
      publish({ state: "unlocked", sequence: 8, nonce: oldest, message: "", contact: "" });
    },
    error: UnlockNonceMismatch,
    fields: () => ({ reason: "nonce-mismatch", expectedNonce: latestNonce(), acceptedCheckIns: DEFAULT_LOCK_LIMITS.nonceWindowCheckIns }),
    after: { state: "locked", sequence: 7 },
  },
  {
    name: "unlock before any check-in",
    setup: (lock) => lockAt(lock, 7),
    attack: () => {
      publish({ state: "unlocked", sequence: 8, nonce: "cd".repeat(32), message: "", contact: "" });
    },
    error: UnlockNonceMismatch,
    fields: () => ({ reason: "nonce-mismatch", expectedNonce: null, receivedNonce: "cd".repeat(32) }),
    after: { state: "locked", sequence: 7 },
  },
  {
    name: "body not JSON",
    setup: (lock) => lockAt(lock, 7),
    attack: () => {
      world.publishText("{ not json");
    },
    error: StatementMalformed,
    fields: () => ({ reason: "malformed", field: "body" }),
    after: { state: "locked", sequence: 7 },
  },
  {
    name: "float in signed part",
    setup: async () => {},
    attack: () => {
      const signed = statement({ sequence: 2 });
      world.publishRaw({ ...signed, signed: { ...signed.signed, extra: 1.5 } });
    },
    error: StatementMalformed,
    fields: () => ({ reason: "malformed", field: "signed.extra" }),
    after: null,
  },
  {
    name: "sequence zero",
    setup: async () => {},
    attack: () => {
      publish({ sequence: 0 });
    },
    error: StatementMalformed,
    fields: () => ({ reason: "malformed", field: "signed.sequence" }),
    after: null,
  },
  {
    name: "lock without contact",
    setup: async () => {},
    attack: () => {
      publish({ sequence: 2, contact: "" });
    },
    error: StatementMalformed,
    fields: () => ({ reason: "malformed", field: "signed.contact" }),
    after: null,
  },
  {
    name: "endless body",
    setup: (lock) => lockAt(lock, 7),
    attack: () => {
      world.overrides.set(world.statementPath, () => {
        let sent = 0;
        const stream = new ReadableStream<Uint8Array>({
          pull(controller) {
            sent += 4096;
            controller.enqueue(new Uint8Array(4096).fill(0x20));
            if (sent > 1024 * 1024) {
              controller.close();
            }
          },
        });
        return new Response(stream);
      });
    },
    error: StatementTooLarge,
    fields: () => ({ reason: "too-large", limitBytes: 16 * 1024 }),
    after: { state: "locked", sequence: 7 },
  },
];

describe("statement rejected", () => {
  test.each(rejections)("$name", async (rejection) => {
    const lock = world.open();
    await rejection.setup(lock);
    await rejection.attack(lock);

    const result = lock.fetchAndApplyLockStatement();

    await expect(result).rejects.toBeInstanceOf(rejection.error);
    await expect(result).rejects.toMatchObject(rejection.fields(lock));
    const expectedState = rejection.after === null ? null : expect.objectContaining(rejection.after);
    expect(persisted()).toEqual(expectedState);
    const after = rejection.after ?? { state: "unlocked", sequence: 0 };
    expect(world.open().status()).toMatchObject({ locked: after.state === "locked", sequence: after.sequence });
  });
});

describe("transport failures", () => {
  test("server error keeps state", async () => {
    const lock = world.open();
    await lockAt(lock, 7);
    world.overrides.set(world.statementPath, () => new Response("busy", { status: 500 }));

    const result = lock.fetchAndApplyLockStatement();

    await expect(result).rejects.toBeInstanceOf(StatementFetchFailed);
    await expect(result).rejects.toMatchObject({ status: 500 });
    expect(lock.isLocked()).toBe(true);
  });

  test("unreachable repository", async () => {
    const lock = world.open({ repositoryUrl: "http://127.0.0.1:9/repo" });

    const result = lock.fetchAndApplyLockStatement();

    await expect(result).rejects.toBeInstanceOf(StatementFetchFailed);
    await expect(result).rejects.toMatchObject({ status: null });
  });

  test("check-in rejected by server", async () => {
    const lock = world.open();
    world.checkInStatus = 503;

    const result = lock.checkIn(RELEASE);

    await expect(result).rejects.toBeInstanceOf(CheckInFailed);
    await expect(result).rejects.toMatchObject({ status: 503, url: world.checkInUrl });
    const stored = JSON.parse(readFileSync(join(world.stateDir, "check-in.json"), "utf8"));
    expect(stored.nonce).toBe(latestNonce());
  });

  test("refresh reports both failures", async () => {
    const lock = world.open();
    world.overrides.set(world.statementPath, () => new Response("busy", { status: 502 }));
    world.checkInStatus = 500;

    const result = await lock.refresh(RELEASE);

    expect(result.statement).toBeInstanceOf(StatementFetchFailed);
    expect(result.checkIn).toBeInstanceOf(CheckInFailed);
  });
});

describe("check-in report", () => {
  test("signed by identity with fields", async () => {
    const lock = world.open();
    await lockAt(lock, 3);

    const { nonce } = await lock.checkIn(RELEASE);

    const body = readCheckIn(world.checkIns[0], publicKeyObject(world.identity.publicKey));
    expect(body).toEqual({
      type: "boxd-check-in",
      deviceId: world.deviceId,
      version: "2.4.0",
      channel: "current",
      lockSequence: 3,
      locked: true,
      nonce,
    });
  });

  test("nonce window persisted and capped", async () => {
    const lock = world.open({ limits: { nonceWindowCheckIns: 3 } });

    for (let count = 0; count < 5; count += 1) {
      await lock.checkIn(RELEASE);
    }

    const stored = JSON.parse(readFileSync(join(world.stateDir, "check-in.json"), "utf8"));
    const sent = world.checkIns.map((report) => report.signed.nonce);
    expect(stored.nonce).toBe(sent[4]);
    expect(stored.recentNonces).toEqual([sent[4], sent[3], sent[2]]);
  });

  test("fresh nonce each time", async () => {
    const lock = world.open();

    const first = await lock.checkIn(RELEASE);
    const second = await lock.checkIn(RELEASE);

    expect(first.nonce).toMatch(/^[0-9a-f]{64}$/);
    expect(second.nonce).not.toBe(first.nonce);
  });

  test.each([
    { name: "tampered version", change: (report: Record<string, any>) => ({ ...report, signed: { ...report.signed, version: "9.9.9" } }), field: "signatures" },
    { name: "wrong type", change: (report: Record<string, any>) => ({ ...report, signed: { ...report.signed, type: "x" } }), field: "signed.type" },
    { name: "missing nonce", change: (report: Record<string, any>) => ({ ...report, signed: { ...report.signed, nonce: undefined } }), field: "signed.nonce" },
  ])("rejects $name", async ({ change, field }) => {
    await world.open().checkIn(RELEASE);
    const report = change(world.checkIns[0] as unknown as Record<string, any>);

    const read = () => readCheckIn(report, publicKeyObject(world.identity.publicKey));

    expect(read).toThrow(CheckInInvalid);
    expect(read).toThrow(expect.objectContaining({ field }));
  });
});

describe("local state", () => {
  test("unreadable state fails closed", async () => {
    await lockAt(world.open(), 7);
    writeFileSync(join(world.stateDir, "lock.json"), "garbage");

    const lock = world.open();

    expect(lock.isLocked()).toBe(true);
    expect(lock.status()).toMatchObject({ locked: true, sequence: 0 });
  });

  test("unreadable state recovers by unlock", async () => {
    mkdirSync(world.stateDir, { recursive: true });
    writeFileSync(join(world.stateDir, "lock.json"), "{}");
    const lock = world.open();

    await lock.checkIn(RELEASE);
    publish({ state: "unlocked", sequence: 1, nonce: latestNonce(), message: "", contact: "" });
    await lock.fetchAndApplyLockStatement();

    expect(lock.isLocked()).toBe(false);
    expect(persisted()).toEqual(expect.objectContaining({ state: "unlocked", sequence: 1 }));
  });

  test("lock survives new device ID", async () => {
    await lockAt(world.open(), 7);

    const reprovisioned = world.open({ deviceId: "boxd-1111222233334444" });

    expect(reprovisioned.isLocked()).toBe(true);
    expect(reprovisioned.status().sequence).toBe(7);
  });

  test("unlocked state resets for new device ID", async () => {
    const lock = world.open();
    await lockAt(lock, 7);
    await unlockAt(lock, 8);

    const reprovisioned = world.open({ deviceId: "boxd-1111222233334444" });

    expect(reprovisioned.status()).toEqual({ locked: false, sequence: 0, message: "", contact: "" });
  });

  test.each([
    { name: "device ID with slash", options: { deviceId: "../etc" }, setting: "deviceId" },
    { name: "repository URL not http", options: { repositoryUrl: "file:///tmp" }, setting: "repositoryUrl" },
  ])("open rejects $name", ({ options, setting }) => {
    expect(() => world.open(options)).toThrow(LockSettingInvalid);
    expect(() => world.open(options)).toThrow(expect.objectContaining({ setting }));
  });
});
