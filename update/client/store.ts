/**
 * Files of the update client in one folder:
 * - `root.json`, `timestamp.json`, `snapshot.json`, `targets.json`: the
 *   trusted metadata, stored as the exact bytes received;
 * - `latest-known-time.json`: the time floor against clocks set back.
 * Every write is atomic (temp file, fsync, rename), so a power cut leaves
 * either the old file or the new one.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic, writeJsonAtomic } from "../../daemon/state/atomic.ts";
import type { TopLevelRole } from "../tuf/consts.ts";
import { ClockWentBackwards } from "../tuf/errors.ts";

export class MetadataStore {
  constructor(readonly folder: string) {}

  read(role: TopLevelRole): Uint8Array | undefined {
    const path = this.pathOf(role);
    if (!existsSync(path)) return undefined;
    return new Uint8Array(readFileSync(path));
  }

  write(role: TopLevelRole, bytes: Uint8Array): void {
    writeFileAtomic(this.pathOf(role), bytes, 0o644);
  }

  remove(role: TopLevelRole): void {
    rmSync(this.pathOf(role), { force: true });
  }

  private pathOf(role: TopLevelRole): string {
    return join(this.folder, `${role}.json`);
  }
}

export interface TimeFloorSettings {
  /** Backward clock steps up to this size pass, for NTP slew and small corrections, in seconds. */
  clockBackwardsToleranceSeconds: number;
}

export const DEFAULT_TIME_FLOOR_SETTINGS: TimeFloorSettings = {
  clockBackwardsToleranceSeconds: 300,
};

/**
 * A persisted, never-decreasing "latest known good time". A thief can set
 * the clock back to make expired metadata look fresh; a refresh whose start
 * time is earlier than this floor fails with ClockWentBackwards.
 *
 * The floor only advances after a refresh succeeded, and a successful
 * refresh proves the reference time was before the new timestamp's expiry.
 * So a clock that jumped forward can push the floor at most one timestamp
 * lifetime ahead of the real time, never years.
 */
export class TimeFloor {
  private readonly path: string;
  private readonly settings: TimeFloorSettings;

  constructor(folder: string, settings: Partial<TimeFloorSettings> = {}) {
    this.path = join(folder, "latest-known-time.json");
    this.settings = { ...DEFAULT_TIME_FLOOR_SETTINGS, ...settings };
  }

  read(): Date | undefined {
    if (!existsSync(this.path)) return undefined;

    // A damaged file reads as no floor. It is written atomically, so only tampering damages it,
    // and an attacker who can damage it can also delete it.
    let stored: { latestKnownTime?: unknown };
    try {
      stored = JSON.parse(readFileSync(this.path, "utf8")) as { latestKnownTime?: unknown };
    } catch {
      return undefined;
    }

    const time = typeof stored.latestKnownTime === "string" ? new Date(stored.latestKnownTime) : undefined;
    return time === undefined || Number.isNaN(time.getTime()) ? undefined : time;
  }

  /** Throws ClockWentBackwards when `now` is earlier than the floor by more than the tolerance. */
  check(now: Date): void {
    const floor = this.read();
    if (floor === undefined) return;

    const toleranceMs = this.settings.clockBackwardsToleranceSeconds * 1000;
    if (now.getTime() + toleranceMs < floor.getTime()) {
      throw new ClockWentBackwards(now, floor);
    }
  }

  /** Raises the floor to `time` when that is later; never lowers it. */
  advance(time: Date): void {
    const floor = this.read();
    if (floor !== undefined && floor.getTime() >= time.getTime()) return;

    writeJsonAtomic(this.path, { latestKnownTime: time.toISOString() }, 0o644);
  }
}
