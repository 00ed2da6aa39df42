import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import pino from "pino";
import { signEnvelope } from "../../update/lock/keys.ts";
import {
  CanonicalJsonError,
  RemoteLock,
  StatementFetchFailed,
  StatementSignatureInvalid,
  StatementWrongDevice,
  canonicalJson,
  publicKeyObject,
  type LockStatementBody,
} from "../../update/lock/index.ts";
import { LockWorld } from "./harness.ts";

let world: LockWorld;

beforeEach(() => {
  world = new LockWorld();
});

afterEach(async () => {
  await world.close();
});

function body(fields: Partial<LockStatementBody> = {}): LockStatementBody {
  return {
    type: "boxd-lock-statement",
    deviceId: world.deviceId,
    state: "locked",
    sequence: 1,
    message: "Reported stolen.",
    contact: "lab desk",
    ...fields,
  };
}

/** Opens the box side with a logger that records every line as parsed JSON. */
function openWithLog(): { lock: RemoteLock; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: "debug" }, { write: (line: string) => lines.push(JSON.parse(line)) });
  const lock = RemoteLock.open({
    stateDir: world.stateDir,
    deviceId: world.deviceId,
    authorityKey: publicKeyObject(world.authority.publicKey),
    identity: world.identity,
    repositoryUrl: world.repositoryUrl,
    checkInUrl: world.checkInUrl,
    log,
  });
  return { lock, lines };
}

describe("lock logging", () => {
  test("rejection logged with reason", async () => {
    const { lock, lines } = openWithLog();
    world.publishRaw(signEnvelope(body({ deviceId: "boxd-other" }), world.authority));

    await expect(lock.fetchAndApplyLockStatement()).rejects.toBeInstanceOf(StatementWrongDevice);

    const rejected = lines.find((line) => line.msg === "lock statement rejected");
    expect(rejected).toMatchObject({ reason: "wrong-device", deviceId: world.deviceId, error: "StatementWrongDevice", level: 40 });
  });

  test("logs carry no key material", async () => {
    const { lock, lines } = openWithLog();
    world.publishRaw(signEnvelope(body({ sequence: 3 }), world.authority));

    await lock.refresh({ version: "2.4.0", channel: "current" });

    const text = JSON.stringify(lines);
    expect(lines.map((line) => line.msg)).toEqual(["lock state loaded", "lock statement applied", "check-in sent"]);
    expect(text).not.toContain(Buffer.from(world.identity.secretKey).toString("hex"));
    expect(text).not.toContain(world.checkIns[0]?.signatures[0]?.sig ?? "missing");
  });
});

describe("statement parsing", () => {
  test("duplicate key cannot change signed value", async () => {
    const lock = world.open();
    const signed = signEnvelope(body({ sequence: 2 }), world.authority);
    // JSON.parse keeps the last of duplicate keys, so a second "state" would win
    // if the box acted on text other than what the signature covers.
    const text = JSON.stringify(signed).replace('"state":"locked"', '"state":"locked","state":"unlocked"');
    world.publishText(text);

    const result = lock.fetchAndApplyLockStatement();

    await expect(result).rejects.toBeInstanceOf(StatementSignatureInvalid);
    expect(lock.status()).toMatchObject({ locked: false, sequence: 0 });
  });

  test("fetch timeout", async () => {
    const lock = world.open({ limits: { fetchTimeoutMs: 50 } });
    world.overrides.set(world.statementPath, () => new Response(new ReadableStream({ pull: () => new Promise(() => {}) })));

    const result = lock.fetchAndApplyLockStatement();

    await expect(result).rejects.toBeInstanceOf(StatementFetchFailed);
    await expect(result).rejects.toMatchObject({ detail: "timed out after fetchTimeoutMs (50 ms)" });
  });
});

describe("canonical JSON", () => {
  test.each([
    { name: "keys sorted", value: { b: 1, a: [true, null, "x"] }, text: '{"a":[true,null,"x"],"b":1}' },
    { name: "only quote and backslash escaped", value: { s: 'a"b\\c\n' }, text: '{"s":"a\\"b\\\\c\n"}' },
    { name: "nested objects sorted", value: { z: { y: 1, x: 2 } }, text: '{"z":{"x":2,"y":1}}' },
  ])("$name", ({ value, text }) => {
    expect(canonicalJson(value)).toBe(text);
  });

  test.each([
    { name: "float", value: { n: 1.5 }, path: "$.n" },
    { name: "unsafe integer", value: { n: 2 ** 53 }, path: "$.n" },
    { name: "undefined member", value: { u: undefined }, path: "$.u" },
    { name: "date object", value: { d: new Date(0) }, path: "$.d" },
  ])("rejects $name", ({ value, path }) => {
    expect(() => canonicalJson(value)).toThrow(CanonicalJsonError);
    expect(() => canonicalJson(value)).toThrow(expect.objectContaining({ path }));
  });
});
