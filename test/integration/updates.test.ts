import { afterEach, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { UPDATE_FOLDER, type Boxd } from "../../daemon/boot.ts";
import { DEFAULT_TRIAL_SETTINGS, resolveBootSlot, systemClock } from "../../update/install/index.ts";
import { METADATA_FOLDER } from "../../update/service.ts";
import { HARDWARE_ID, World } from "./world.ts";

let world: World | undefined;
let boxd: Boxd | undefined;

afterEach(async () => {
  await boxd?.stop();
  boxd = undefined;
  await world?.close();
  world = undefined;
});

/** Stops the running boxd and starts it again on the same state folder. */
async function restart(w: World): Promise<Boxd> {
  await boxd?.stop();
  boxd = await w.start();
  return boxd;
}

test("check, pin and channel through the admin API", async () => {
  const w = (world = await World.create());
  const box = (boxd = await w.start());

  const check = await w.api(box, "POST", "/update/check");
  expect(check.status).toBe(200);
  expect(check.body).toMatchObject({ channel: "current", pin: null, latest: "1.1.0 (counter 11)", decision: { action: "install", version: "1.1.0" } });

  const pinned = await w.api(box, "PUT", "/update/pin", { version: "1.0.0" });
  expect(pinned.status).toBe(200);
  expect(pinned.body).toMatchObject({ pin: "1.0.0", newerThanPin: ["1.1.0 (counter 11)"], decision: { action: "install", version: "1.0.0" } });

  const unpinned = await w.api(box, "DELETE", "/update/pin");
  expect(unpinned.body).toEqual({ channel: "current", pin: null });

  const upcoming = await w.api(box, "PUT", "/update/channel", { channel: "upcoming" });
  expect(upcoming.status).toBe(200);
  expect(upcoming.body).toMatchObject({ channel: "upcoming", latest: "2.0.0 (counter 20)" });

  const status = await w.api(box, "GET", "/status");
  expect(status.body).toMatchObject({ mode: "factory", deviceId: "boxd-integration-0001", updates: { enabled: true, channel: "upcoming" } });
});

test("install, A/B switch and rollback", async () => {
  const w = (world = await World.create());
  let box = (boxd = await w.start());

  const started = await w.api(box, "POST", "/update/install", {});
  expect(started.status).toBe(202);
  expect(started.body).toMatchObject({ target: "current/boxd-1.1.0.img", version: "1.1.0", downgrade: false });
  await box.updates.whenIdle();

  const progress = await w.api(box, "GET", "/update/progress");
  expect(progress.body.progress).toMatchObject({ phase: "done", version: "1.1.0", bytesTotal: progress.body.progress.bytesDone });
  expect(progress.body.line).toStartWith("1.1.0  done         100.0%");
  const installed = await w.api(box, "GET", "/status");
  expect(installed.body.slots).toEqual({
    running: { slot: null, version: null, action: "none", triesLeft: null },
    next: { slot: "a", version: "1.1.0", onTrial: true },
  });

  const onTrial = await w.api(box, "POST", "/update/install");
  expect(onTrial.status).toBe(409);
  expect(onTrial.body).toMatchObject({ error: "TrialInProgress", message: expect.stringContaining("Restart boxd") });

  box = await restart(w);
  const onSlotA = await w.api(box, "GET", "/status");
  expect(onSlotA.body).toMatchObject({ version: "1.1.0", slots: { running: { slot: "a", version: "1.1.0", action: "good", triesLeft: null }, next: { slot: "a", onTrial: false } } });
  const floor = await w.api(box, "POST", "/update/check");
  expect(floor.body).toMatchObject({ installed: "1.1.0 (counter 11)", decision: { action: "none", reason: "up-to-date" } });
  const again = await w.api(box, "POST", "/update/install");
  expect(again.status).toBe(409);
  expect(again.body).toMatchObject({ error: "NothingToInstall", message: expect.stringContaining("up-to-date") });

  await w.api(box, "PUT", "/update/channel", { channel: "upcoming" });
  expect((await w.api(box, "POST", "/update/install")).status).toBe(202);
  await box.updates.whenIdle();
  box = await restart(w);
  expect((await w.api(box, "GET", "/status")).body.slots.running).toMatchObject({ slot: "b", version: "2.0.0" });

  const rolledBack = await w.api(box, "POST", "/update/rollback");
  expect(rolledBack.status).toBe(200);
  expect(rolledBack.body.next).toEqual({ slot: "a", version: "1.1.0", onTrial: false });

  expect(rolledBack.body).toMatchObject({ markedBad: { version: "2.0.0", reason: "user-rollback" }, floor: "2.0.0 (counter 20)" });
  expect(rolledBack.body.note).toContain("floor stays at 20");

  box = await restart(w);
  const status = await w.api(box, "GET", "/status");
  expect(status.body.slots.running).toMatchObject({ slot: "a", version: "1.1.0", action: "good" });
  expect(status.body).toMatchObject({ version: "1.1.0", updates: { installed: "1.1.0 (counter 11)" } });

  const afterRollback = await w.api(box, "POST", "/update/check");
  expect(afterRollback.body).toMatchObject({
    installed: "1.1.0 (counter 11)",
    floor: "2.0.0 (counter 20)",
    decision: { action: "none", reason: "marked-bad", version: "2.0.0", badReason: "user-rollback" },
    bad: [{ version: "2.0.0", target: "upcoming/boxd-2.0.0.img", reason: "user-rollback" }],
  });
  expect(afterRollback.body.floorNote).toContain("floor stays at 2.0.0 (counter 20)");
  expect(afterRollback.body.floorNote).toContain("admin-cli clear-bad 2.0.0");
});

test("rolled-back floor release installs again once cleared", async () => {
  const w = (world = await World.create());
  let box = (boxd = await w.start());
  for (const channel of ["current", "upcoming"]) {
    await w.api(box, "PUT", "/update/channel", { channel });
    expect((await w.api(box, "POST", "/update/install")).status).toBe(202);
    await box.updates.whenIdle();
    box = await restart(w);
  }
  expect((await w.api(box, "POST", "/update/rollback")).status).toBe(200);
  box = await restart(w);
  const downloadsBefore = w.requests.filter((path) => path.startsWith("/repo/targets/")).length;

  const check = await w.api(box, "POST", "/update/check");
  const refused = await w.api(box, "POST", "/update/install");
  expect(check.body).toMatchObject({ installed: "1.1.0 (counter 11)", floor: "2.0.0 (counter 20)", decision: { action: "none", reason: "marked-bad", version: "2.0.0" } });
  expect(refused.status).toBe(409);
  expect(refused.body).toMatchObject({ error: "ReleaseMarkedBad", version: "2.0.0", reason: "user-rollback" });

  expect((await w.api(box, "DELETE", "/update/bad/2.0.0")).status).toBe(200);
  const cleared = await w.api(box, "POST", "/update/check");
  const pinned = await w.api(box, "PUT", "/update/pin", { version: "2.0.0" });
  expect(cleared.body).toMatchObject({ installed: "1.1.0 (counter 11)", floor: "2.0.0 (counter 20)", decision: { action: "install", version: "2.0.0" } });
  expect(cleared.body.floorNote).toContain("1.1.0 (counter 11) runs");
  expect(pinned.body).toMatchObject({ pin: "2.0.0", decision: { action: "install", version: "2.0.0" } });

  const started = await w.api(box, "POST", "/update/install");
  expect(started.status).toBe(202);
  expect(started.body).toMatchObject({ version: "2.0.0", downgrade: false });
  await box.updates.whenIdle();
  const progress = await w.api(box, "GET", "/update/progress");
  expect(progress.body.line).toStartWith("2.0.0  done         100.0%");
  expect(w.requests.filter((path) => path.startsWith("/repo/targets/")).length).toBe(downloadsBefore);

  box = await restart(w);
  const back = await w.api(box, "POST", "/update/check");
  expect(back.body).toMatchObject({ installed: "2.0.0 (counter 20)", floor: "2.0.0 (counter 20)", decision: { action: "none", reason: "up-to-date" } });
  expect(back.body.floorNote).toBeUndefined();
});

test("trial confirmed healthy when booted locked", async () => {
  const w = (world = await World.create());
  let box = (boxd = await w.start());
  expect((await w.api(box, "POST", "/update/install")).status).toBe(202);
  await box.updates.whenIdle();
  w.lock();

  box = await restart(w);
  const status = await w.api(box, "GET", "/status");
  const clientState = JSON.parse(readFileSync(join(w.stateDir, UPDATE_FOLDER, METADATA_FOLDER, "client-state.json"), "utf8"));

  expect(status.body.lock).toMatchObject({ locked: true });
  expect(status.body.slots).toEqual({
    running: { slot: "a", version: "1.1.0", action: "good", triesLeft: null },
    next: { slot: "a", version: "1.1.0", onTrial: false },
  });
  expect(clientState.installed).toEqual({ version: "1.1.0", counter: 11 });
});

/** Lets the trial of the slot just installed time out, as two starts without a health report would. */
function failTrial(w: World): void {
  const folder = join(w.stateDir, UPDATE_FOLDER);
  const firstStart = Date.now();
  resolveBootSlot(folder, { clock: { ...systemClock, now: () => firstStart } });
  resolveBootSlot(folder, { clock: { ...systemClock, now: () => firstStart + DEFAULT_TRIAL_SETTINGS.healthTimeoutMs + 1 } });
}

test("release marked bad is refused until cleared", async () => {
  const w = (world = await World.create());
  let box = (boxd = await w.start());
  expect((await w.api(box, "POST", "/update/install")).status).toBe(202);
  await box.updates.whenIdle();
  await box.stop();
  failTrial(w);
  box = boxd = await w.start();
  const downloadsBefore = w.requests.filter((path) => path.startsWith("/repo/targets/")).length;

  const check = await w.api(box, "POST", "/update/check");
  const install = await w.api(box, "POST", "/update/install");
  const listed = await w.api(box, "GET", "/update/bad");
  const cleared = await w.api(box, "DELETE", "/update/bad/1.1.0");
  const clearedAgain = await w.api(box, "DELETE", "/update/bad/1.1.0");
  const recheck = await w.api(box, "POST", "/update/check");

  expect(check.body).toMatchObject({
    installed: "0.1.0 (counter 0)",
    decision: { action: "none", reason: "marked-bad", version: "1.1.0", badReason: "health-timeout" },
    bad: [{ version: "1.1.0", target: "current/boxd-1.1.0.img", reason: "health-timeout" }],
  });
  expect(check.body.decision.message).toContain("admin-cli clear-bad 1.1.0");
  expect(install.status).toBe(409);
  expect(install.body).toMatchObject({ error: "ReleaseMarkedBad", version: "1.1.0", reason: "health-timeout" });
  expect(install.body.message).toContain("DELETE /update/bad/1.1.0");
  expect(install.body.message).not.toContain("clearBadRelease()");
  expect(w.requests.filter((path) => path.startsWith("/repo/targets/")).length).toBe(downloadsBefore);
  expect(listed.body.bad).toHaveLength(1);
  expect(cleared.status).toBe(200);
  expect(cleared.body).toMatchObject({ cleared: [{ version: "1.1.0" }], bad: [] });
  expect(clearedAgain.status).toBe(404);
  expect(clearedAgain.body).toMatchObject({ error: "BadMarkNotFound", version: "1.1.0", marked: [] });
  expect(recheck.body.decision).toMatchObject({ action: "install", version: "1.1.0" });
});

test.each([
  { name: "up to date", setup: async () => {}, reason: "up-to-date", hint: "after the vendor publishes one" },
  {
    name: "channel behind installed",
    setup: async (w: World, box: Boxd) => {
      await w.api(box, "PUT", "/update/channel", { channel: "current" });
    },
    reason: "channel-behind-installed",
    hint: "admin-cli install --confirm-downgrade",
  },
])("nothing to install when $name names the fix", async ({ setup, reason, hint }) => {
  const w = (world = await World.create());
  let box = (boxd = await w.start());
  await w.api(box, "PUT", "/update/channel", { channel: "upcoming" });
  await w.api(box, "POST", "/update/install");
  await box.updates.whenIdle();
  box = await restart(w);
  await setup(w, box);

  const install = await w.api(box, "POST", "/update/install");

  expect(install.status).toBe(409);
  expect(install.body).toMatchObject({ error: "NothingToInstall", reason });
  expect(install.body.message).toContain(hint);
  expect(install.body.message).toContain("2.0.0 (counter 20) runs");
});

test("check lists skipped config patches", async () => {
  const w = (world = await World.create());
  const patch = join(w.root, "patch-5.5.json");
  writeFileSync(patch, "{}");
  w.vendor.addRelease({ file: patch, kind: "config-patch", version: "1.0.0", counter: 1, channel: "current", hardwareIds: [HARDWARE_ID], duisVersions: ["5.5"], gbcsVersions: ["4.2"] });
  w.vendor.publish();
  const box = (boxd = await w.start());

  const check = await w.api(box, "POST", "/update/check");

  expect(check.body.configPatches).toEqual([]);
  expect(check.body.configPatchesSkipped).toEqual([
    { target: "current/patch-5.5.json", reason: "patch is for DUIS 5.5 / GBCS 4.2, but this box emulates DUIS 5.4 / GBCS 4.2" },
  ]);
  expect(check.body.configPatchesNote).toContain("does not apply config patches yet");
});

test("install refusals name the fix", async () => {
  const w = (world = await World.create());
  const box = (boxd = await w.start());

  const release = w.holdDownloads();
  expect((await w.api(box, "POST", "/update/install")).status).toBe(202);
  const second = await w.api(box, "POST", "/update/install");
  const during = await w.api(box, "GET", "/update/progress");
  release();
  await box.updates.whenIdle();

  expect(second.status).toBe(409);
  expect(second.body.error).toBe("InstallInProgress");
  expect(during.body.progress).toMatchObject({ phase: "downloading", version: "1.1.0", bytesDone: 0, etaSeconds: null });
  expect(during.body.line).toStartWith("1.1.0  downloading    0.0%");

  const rollback = await w.api(box, "POST", "/update/rollback");
  expect(rollback.status).toBe(409);
  expect(rollback.body.error).toBe("NoRollbackSlot");
});

test("automatic install starts from a check", async () => {
  const w = (world = await World.create());
  const box = (boxd = await w.start({ BOXD_UPDATE_AUTO_INSTALL: "automatic" }));

  const check = await w.api(box, "POST", "/update/check");
  await box.updates.whenIdle();

  expect(check.body).toMatchObject({ autoInstall: "automatic", decision: { action: "install", version: "1.1.0" } });
  expect((await w.api(box, "GET", "/update/progress")).body.progress).toMatchObject({ phase: "done", version: "1.1.0" });
});

test("manual install waits for the user", async () => {
  const w = (world = await World.create());
  const box = (boxd = await w.start());

  await w.api(box, "POST", "/update/check");

  expect((await w.api(box, "GET", "/update/progress")).body).toEqual({ progress: null, line: null });
});
