import { afterEach, expect, test } from "bun:test";
import { logger } from "../../daemon/log.ts";
import { loadProvisioning } from "../../provisioning/index.ts";
import { LockService, repositoryBaseOf, type LockTimers } from "../../update/lock-service.ts";
import { World } from "../integration/world.ts";

let world: World | undefined;

afterEach(async () => {
  await world?.close();
  world = undefined;
});

/** Timers that run only when the test calls `fire`. */
class ManualTimers implements LockTimers {
  readonly pending: Array<{ run: () => void; ms: number }> = [];

  setTimeout(run: () => void, ms: number): unknown {
    const entry = { run, ms };
    this.pending.push(entry);
    return entry;
  }

  clearTimeout(handle: unknown): void {
    const index = this.pending.indexOf(handle as { run: () => void; ms: number });
    if (index >= 0) this.pending.splice(index, 1);
  }

  /** Runs the next timer and returns its delay. */
  fire(): number {
    const entry = this.pending.shift();
    if (entry === undefined) throw new Error("no timer is pending");
    entry.run();
    return entry.ms;
  }
}

function openLock(w: World, timers: ManualTimers): LockService {
  const provisioning = loadProvisioning(w.stateDir, logger("test"));
  const settings = { metadataUrl: `${w.baseUrl}/repo/metadata`, checkInUrl: `${w.baseUrl}/dcc/check-in`, refreshIntervalMs: 60_000, bootRefreshTimeoutMs: 5_000 };
  return LockService.open(provisioning, settings, () => ({ version: "0.1.0", channel: "current" }), logger("test"), timers);
}

test("refreshes on the interval while locked", async () => {
  const w = (world = await World.create());
  const timers = new ManualTimers();
  const lock = openLock(w, timers);
  lock.start();
  expect(timers.pending.length).toBe(0);

  w.lock();
  await lock.refresh();
  expect(lock.isLocked()).toBe(true);
  expect(timers.pending.map((entry) => entry.ms)).toEqual([60_000]);

  w.unlock();
  const checkIns = w.checkIns.length;
  timers.fire();
  await lock.refresh();

  expect(w.checkIns.length).toBeGreaterThan(checkIns);
  expect(lock.isLocked()).toBe(false);
  expect(timers.pending.length).toBe(0);
});

test("stop cancels the interval refresh", async () => {
  const w = (world = await World.create());
  const timers = new ManualTimers();
  const lock = openLock(w, timers);
  w.lock();
  await lock.refresh();
  expect(timers.pending.length).toBe(1);

  lock.stop();

  expect(timers.pending.length).toBe(0);
});

test("boot refresh survives an unreachable repository", async () => {
  const w = (world = await World.create());
  const provisioning = loadProvisioning(w.stateDir, logger("test"));
  await w.close();
  world = undefined;
  const unreachable = { metadataUrl: "http://127.0.0.1:9/repo/metadata", checkInUrl: "http://127.0.0.1:9/dcc/check-in", refreshIntervalMs: 60_000, bootRefreshTimeoutMs: 2_000 };
  const lock = LockService.open(provisioning, unreachable, () => ({ version: "0.1.0", channel: "current" }), logger("test"), new ManualTimers());

  await lock.bootRefresh();

  expect(lock.report()).toMatchObject({ locked: false, mode: "online" });
});

test.each([
  ["http://127.0.0.1:1/repo/metadata", "http://127.0.0.1:1/repo/"],
  ["http://127.0.0.1:1/repo/metadata/", "http://127.0.0.1:1/repo/"],
  ["http://127.0.0.1:1/metadata", "http://127.0.0.1:1/"],
])("repository base of %s", (metadataUrl, base) => {
  expect(repositoryBaseOf(metadataUrl)).toBe(base);
});
