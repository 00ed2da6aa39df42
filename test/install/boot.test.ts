import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pino from "pino";
import { setLogLevel } from "../../daemon/log.ts";
import {
  confirmHealthy,
  decideBoot,
  initialBootState,
  MAX_BAD_RELEASES,
  rollbackTo,
  switchTo,
  type BootState,
  type SlotRecord,
} from "../../update/install/boot-rules.ts";
import { BootStateInvalid, NoRollbackSlot, NoTrialToConfirm, ReleaseMarkedBad, TrialInProgress } from "../../update/install/errors.ts";
import { installUpdate } from "../../update/install/install.ts";
import { formatProgressLine, type InstallProgress } from "../../update/install/progress.ts";
import { BOOT_STATE_FILE, clearBadRelease, markHealthy, readBootState, resolveBootSlot, rollback, slotImagePath } from "../../update/install/slots.ts";
import { ImageServer, makeImage, makeTempDir, ManualClock, sha256Hex, targetFor } from "./helpers.ts";

beforeAll(() => setLogLevel("silent"));

const V1 = makeImage(64 * 1024, 11);
const V2 = makeImage(64 * 1024 + 7, 12);
const T0 = 1_800_000_000_000;

function record(version: string, image: Uint8Array): SlotRecord {
  return { targetName: "boxd.img", version, sha256: sha256Hex(image), length: image.length, installedAt: T0 };
}

/** State with v1 good in slot a and v2 on trial in slot b. */
function trialState(triesLeft: number, firstStartAt: number | null): BootState {
  const base: BootState = { ...initialBootState(), active: "a", slots: { a: record("1.0.0", V1), b: record("2.0.0", V2) } };
  const switched = switchTo(base, "b", { tries: 3, healthTimeoutMs: 60_000 });
  return { ...switched, trial: { ...switched.trial!, triesLeft, firstStartAt } };
}

const allVerify = () => true;

describe("boot rules", () => {
  test.each([
    ["first start takes a try", 3, null, T0, "trial", "b", 2],
    ["last try still starts", 1, T0, T0 + 1000, "trial", "b", 0],
    ["no tries left reverts", 0, T0, T0 + 1000, "reverted", "a", null],
    ["health timeout reverts", 2, T0, T0 + 60_001, "reverted", "a", null],
  ] as const)("%s", (_name, triesLeft, firstStartAt, now, action, slot, triesAfter) => {
    const decision = decideBoot(trialState(triesLeft, firstStartAt), now, allVerify);

    expect(decision.action).toBe(action);
    expect(decision.slot).toBe(slot);
    expect(decision.state.trial?.triesLeft ?? null).toBe(triesAfter);
  });

  test("revert marks the release bad", () => {
    const decision = decideBoot(trialState(0, T0), T0 + 1, allVerify);

    expect(decision.state.bad).toEqual([{ targetName: "boxd.img", version: "2.0.0", sha256: sha256Hex(V2), reason: "trial-failed", at: T0 + 1 }]);
    expect(decision.state.slots.b).toEqual(record("2.0.0", V2));
  });

  test("first start records its time", () => {
    const decision = decideBoot(trialState(3, null), T0 + 5, allVerify);

    expect(decision.state.trial?.firstStartAt).toBe(T0 + 5);
  });

  test.each([
    ["trial image invalid", trialState(2, T0), ["b"], "a", "image-invalid"],
    ["good image invalid", { ...trialState(2, T0), trial: null }, ["b"], "a", null],
    ["both images invalid", { ...trialState(2, T0), trial: null }, ["a", "b"], null, null],
  ] as const)("falls back when %s", (_name, state, broken, slot, badReason) => {
    const decision = decideBoot(state, T0 + 1, (name) => !(broken as readonly string[]).includes(name));

    expect(decision.action).toBe("fallback");
    expect(decision.slot).toBe(slot);
    expect(decision.state.bad[0]?.reason ?? null).toBe(badReason);
  });

  test("fallback skips a release marked bad", () => {
    const reverted = decideBoot(trialState(0, T0), T0, allVerify).state;

    const decision = decideBoot(reverted, T0 + 1, (name) => name !== "a");

    expect(decision.slot).toBeNull();
    expect(decision.action).toBe("fallback");
  });

  test("confirmHealthy without trial changes nothing", () => {
    const state = { ...trialState(2, T0), trial: null };

    expect(confirmHealthy(state, T0)).toBe(state);
  });

  test.each([
    ["another active slot", { ...trialState(2, T0), active: "a" as const }, T0, "slot b is on trial but slot a is active"],
    ["after the timeout", trialState(2, T0), T0 + 60_001, "the health timeout of 60000 ms has passed, so the next start reverts"],
  ])("confirmHealthy rejects %s", (_name, state, now, detail) => {
    let caught: unknown;
    try {
      confirmHealthy(state, now);
    } catch (error) {
      caught = error;
    }

    expect(caught).toBeInstanceOf(NoTrialToConfirm);
    expect(caught).toMatchObject({ detail, fault: "caller" });
  });

  test("rollback needs a verified other slot", () => {
    const state: BootState = { ...initialBootState(), active: "a", slots: { a: record("1.0.0", V1), b: null } };

    expect(() => rollbackTo(state, T0, allVerify)).toThrow(NoRollbackSlot);
    expect(() => rollbackTo({ ...state, slots: { a: state.slots.a, b: record("2.0.0", V2) } }, T0, () => false)).toThrow(NoRollbackSlot);
  });

  test("bad list keeps the newest entries", () => {
    let state: BootState = { ...initialBootState(), active: "a", slots: { a: null, b: record("1.0.0", V1) } };
    for (let i = 0; i < MAX_BAD_RELEASES + 5; i++) {
      state = { ...state, active: "a", slots: { ...state.slots, a: { ...record(`3.${i}.0`, V2), sha256: String(i).padStart(64, "0") } } };
      state = rollbackTo(state, T0 + i, allVerify);
    }

    expect(state.bad).toHaveLength(MAX_BAD_RELEASES);
    expect(state.bad.at(-1)?.version).toBe(`3.${MAX_BAD_RELEASES + 4}.0`);
  });
});

describe("A/B install and trial", () => {
  test("installs, trials and confirms a release", async () => {
    using dir = makeTempDir("ab");
    using server = new ImageServer(V2, [{ kind: "serve" }]);
    const clock = new ManualClock(T0);

    const result = await installUpdate(dir.path, targetFor(V2, server.url, "2.0.0"), { clock });
    const started = resolveBootSlot(dir.path, { clock });
    clock.advance(1000);
    const confirmed = markHealthy(dir.path, { clock });

    expect(result).toMatchObject({ status: "installed", slot: "a" });
    expect(started).toMatchObject({ slot: "a", action: "trial", triesLeft: 2, healthDeadline: T0 + 10 * 60 * 1000 });
    expect(sha256Hex(readFileSync(started.imagePath!))).toBe(sha256Hex(V2));
    expect(confirmed?.version).toBe("2.0.0");
    expect(resolveBootSlot(dir.path, { clock })).toMatchObject({ slot: "a", action: "good", triesLeft: null });
    expect(markHealthy(dir.path, { clock })?.version).toBe("2.0.0");
  });

  // The new version never reports healthy in 3 starts, so the 4th start
  // reverts and marks the release bad, and a new install of it is rejected.
  test("reverts after the tries and refuses the release", async () => {
    using dir = makeTempDir("ab");
    using server1 = new ImageServer(V1, [{ kind: "serve" }]);
    using server2 = new ImageServer(V2, [{ kind: "serve" }]);
    const clock = new ManualClock(T0);
    await installUpdate(dir.path, targetFor(V1, server1.url, "1.0.0"), { clock });
    resolveBootSlot(dir.path, { clock });
    markHealthy(dir.path, { clock });
    const target = targetFor(V2, server2.url, "2.0.0");
    await installUpdate(dir.path, target, { clock, trial: { tries: 3 } });

    const starts = [1, 2, 3, 4].map(() => resolveBootSlot(dir.path, { clock }));
    const again = await installUpdate(dir.path, target, { clock }).catch((error: unknown) => error);

    expect(starts.map((start) => [start.slot, start.action, start.triesLeft])).toEqual([
      ["b", "trial", 2],
      ["b", "trial", 1],
      ["b", "trial", 0],
      ["a", "reverted", null],
    ]);
    expect(readBootState(dir.path).bad.map((bad) => [bad.version, bad.reason])).toEqual([["2.0.0", "trial-failed"]]);
    expect(again).toBeInstanceOf(ReleaseMarkedBad);
    expect(again).toMatchObject({ targetName: "boxd.img", sha256: target.sha256, reason: "trial-failed" });
    expect(server2.requests).toHaveLength(1);
  });

  test("clearBadRelease lets the release install again", async () => {
    using dir = makeTempDir("ab");
    using server = new ImageServer(V2, [{ kind: "serve" }]);
    const clock = new ManualClock(T0);
    const target = targetFor(V2, server.url, "2.0.0");
    await installUpdate(dir.path, target, { clock, trial: { tries: 0 } });
    expect(resolveBootSlot(dir.path, { clock })).toMatchObject({ slot: null, action: "reverted" });

    clearBadRelease(dir.path, target.name, target.sha256);
    const result = await installUpdate(dir.path, target, { clock });

    expect(result.status).toBe("installed");
  });

  test("refuses an install during a trial", async () => {
    using dir = makeTempDir("ab");
    using server1 = new ImageServer(V1, [{ kind: "serve" }]);
    using server2 = new ImageServer(V2, [{ kind: "serve" }]);
    await installUpdate(dir.path, targetFor(V1, server1.url, "1.0.0"));

    const error = await installUpdate(dir.path, targetFor(V2, server2.url, "2.0.0")).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(TrialInProgress);
    expect(error).toMatchObject({ slot: "a", version: "1.0.0" });
    expect(server2.requests).toHaveLength(0);
  });

  test("skips a target that is already active", async () => {
    using dir = makeTempDir("ab");
    using server = new ImageServer(V1, [{ kind: "serve" }]);
    const target = targetFor(V1, server.url, "1.0.0");
    await installUpdate(dir.path, target);
    resolveBootSlot(dir.path);
    markHealthy(dir.path);

    const events: InstallProgress[] = [];
    const result = await installUpdate(dir.path, target, { onProgress: (progress) => events.push(progress) });

    expect(result.status).toBe("already-installed");
    expect(server.requests).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({ phase: "done", bytesDone: V1.length, bytesTotal: V1.length, rateBytesPerSecond: 0 });
    expect(formatProgressLine(events.at(-1)!)).toContain("100.0%");
  });

  test("reinstall from the inactive slot shows full progress", async () => {
    using dir = makeTempDir("ab");
    using server1 = new ImageServer(V1, [{ kind: "serve" }]);
    using server2 = new ImageServer(V2, [{ kind: "serve" }]);
    const target2 = targetFor(V2, server2.url, "2.0.0");
    for (const [image, server, version] of [[V1, server1, "1.0.0"], [V2, server2, "2.0.0"]] as const) {
      await installUpdate(dir.path, targetFor(image, server.url, version));
      resolveBootSlot(dir.path);
      markHealthy(dir.path);
    }
    rollback(dir.path);
    resolveBootSlot(dir.path);
    clearBadRelease(dir.path, target2.name, target2.sha256);

    const events: InstallProgress[] = [];
    const result = await installUpdate(dir.path, target2, { onProgress: (progress) => events.push(progress) });

    expect(result).toMatchObject({ status: "installed", slot: "b" });
    expect(server2.requests).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({ phase: "done", bytesDone: V2.length, bytesTotal: V2.length });
    expect(formatProgressLine(events.at(-1)!)).toContain("100.0%");
  });

  test.each([
    { name: "out of tries", tries: 0, advanceMs: 0, reason: "trial-failed", why: "before its trial ran out of starts" },
    { name: "health timeout", tries: 3, advanceMs: 60_001, reason: "health-timeout", why: "within its health timeout of 60000 ms" },
  ])("trial revert warns naming the release when $name", async ({ tries, advanceMs, reason, why }) => {
    using dir = makeTempDir("ab");
    using server = new ImageServer(V2, [{ kind: "serve" }]);
    const clock = new ManualClock(T0);
    await installUpdate(dir.path, targetFor(V2, server.url, "2.0.0"), { clock, trial: { tries, healthTimeoutMs: 60_000 } });
    if (tries > 0) resolveBootSlot(dir.path, { clock });
    clock.advance(advanceMs);
    const lines: Array<Record<string, unknown>> = [];
    const log = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });

    resolveBootSlot(dir.path, { clock, log });

    const warning = lines.find((line) => line.reason === reason);
    expect(warning).toMatchObject({ level: 40, version: "2.0.0", target: "boxd.img", reason });
    expect(String(warning?.msg)).toContain("release 2.0.0 marked bad");
    expect(String(warning?.msg)).toContain(why);
    expect(String(warning?.msg)).toContain("the built-in release starts instead");
  });

  test("rollback on request switches and marks bad", async () => {
    using dir = makeTempDir("ab");
    using server1 = new ImageServer(V1, [{ kind: "serve" }]);
    using server2 = new ImageServer(V2, [{ kind: "serve" }]);
    for (const [image, server, version] of [[V1, server1, "1.0.0"], [V2, server2, "2.0.0"]] as const) {
      await installUpdate(dir.path, targetFor(image, server.url, version));
      resolveBootSlot(dir.path);
      markHealthy(dir.path);
    }

    const selection = rollback(dir.path);

    expect(selection).toMatchObject({ slot: "a", record: { version: "1.0.0" } });
    expect(resolveBootSlot(dir.path)).toMatchObject({ slot: "a", action: "good" });
    expect(readBootState(dir.path).bad.map((bad) => [bad.version, bad.reason])).toEqual([["2.0.0", "user-rollback"]]);
    expect(() => rollback(dir.path)).toThrow(NoRollbackSlot);
  });

  test("a changed slot image falls back", async () => {
    using dir = makeTempDir("ab");
    using server1 = new ImageServer(V1, [{ kind: "serve" }]);
    using server2 = new ImageServer(V2, [{ kind: "serve" }]);
    for (const [image, server, version] of [[V1, server1, "1.0.0"], [V2, server2, "2.0.0"]] as const) {
      await installUpdate(dir.path, targetFor(image, server.url, version));
      resolveBootSlot(dir.path);
      markHealthy(dir.path);
    }
    const image = readFileSync(slotImagePath(dir.path, "b"));
    image[0] = image[0]! ^ 1;
    writeFileSync(slotImagePath(dir.path, "b"), image);

    const selection = resolveBootSlot(dir.path);

    expect(selection).toMatchObject({ slot: "a", action: "fallback", record: { version: "1.0.0" } });
    expect(readBootState(dir.path).slots.b).toBeNull();
  });

  test.each([
    ["not JSON", "{", "not JSON"],
    ["wrong format", JSON.stringify({ format: 2 }), "format is not 1"],
    ["bad active", JSON.stringify({ ...initialBootState(), active: "c" }), 'active is "c", expected "a", "b" or null'],
  ])("rejects a boot state that is %s", (_name, contents, detail) => {
    using dir = makeTempDir("ab");
    writeFileSync(join(dir.path, BOOT_STATE_FILE), contents);

    let caught: unknown;
    try {
      resolveBootSlot(dir.path);
    } catch (error) {
      caught = error;
    }

    expect(caught).toBeInstanceOf(BootStateInvalid);
    expect((caught as BootStateInvalid).detail.startsWith(detail)).toBe(true);
  });

  test("removes temp files of an interrupted write", () => {
    using dir = makeTempDir("ab");
    const temp = join(dir.path, `.${BOOT_STATE_FILE}.123.456.tmp`);
    writeFileSync(temp, "{");

    expect(resolveBootSlot(dir.path)).toMatchObject({ slot: null, action: "none" });
    expect(existsSync(temp)).toBe(false);
  });
});
