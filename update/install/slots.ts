import { existsSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { logger, type Logger } from "../../daemon/log.ts";
import { writeJsonAtomic } from "../../daemon/state/atomic.ts";
import {
  clearBadRelease as clearBadReleaseRule,
  confirmHealthy,
  decideBoot,
  initialBootState,
  rollbackTo,
  SLOT_NAMES,
  type BadRelease,
  type BootAction,
  type BootState,
  type SlotName,
  type SlotRecord,
  type SlotVerifier,
} from "./boot-rules.ts";
import { systemClock, type Clock } from "./clock.ts";
import { BootStateInvalid } from "./errors.ts";
import { sha256File } from "./hash.ts";

const log = logger("update.install.slots");

/** File name of the boot state inside the state folder. */
export const BOOT_STATE_FILE = "boot-state.json";

/** Folder of the staging file inside the state folder; on the same file system as the slots. */
export const STAGING_DIR = "staging";

/** File name of the image inside each slot folder `slots/<a|b>/`. */
export const SLOT_IMAGE_FILE = "image";

/**
 * Check of the chosen slot's image at each start. `sha256` hashes the whole
 * file (about 1 s per GiB measured with native SHA-256 on a 2-core Xeon).
 * `length` compares only the size, so it catches truncated files but not
 * changed bytes.
 */
export type SlotCheck = "sha256" | "length";

export interface SlotOptions {
  clock?: Clock;
  check?: SlotCheck;
  /** Logger for slot changes; the `update.install.slots` logger by default. */
  log?: Logger;
}

/** The slot a start runs, for the daemon. */
export interface BootSelection {
  /** Slot to run; null runs the built-in version. */
  slot: SlotName | null;
  /** Path of the slot image, or null with the built-in version. */
  imagePath: string | null;
  record: SlotRecord | null;
  action: BootAction;
  /** Starts left for a slot on trial, or null when no trial runs. */
  triesLeft: number | null;
  /** Time by which markHealthy() must be called, in milliseconds since the epoch, or null. */
  healthDeadline: number | null;
}

export function slotImagePath(stateDir: string, slot: SlotName): string {
  return join(stateDir, "slots", slot, SLOT_IMAGE_FILE);
}

/** Reads the boot state; a missing file is the initial state (nothing installed). */
export function readBootState(stateDir: string): BootState {
  const path = join(stateDir, BOOT_STATE_FILE);
  if (!existsSync(path)) {
    return initialBootState();
  }

  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new BootStateInvalid(path, `not JSON (${(error as Error).message})`);
  }
  return parseBootState(value, path);
}

/** Writes the boot state atomically (temp file, fsync, rename, fsync of the folder). */
export function writeBootState(stateDir: string, state: BootState): void {
  writeJsonAtomic(join(stateDir, BOOT_STATE_FILE), state);
}

/**
 * Decides which slot this start runs; the daemon calls it once at every
 * start, before it loads a slot. It takes one try from a slot on trial,
 * reverts a failed trial and checks the chosen image against its recorded
 * hash. The new state is on disk before this returns.
 */
export function resolveBootSlot(stateDir: string, options: SlotOptions = {}): BootSelection {
  const clock = options.clock ?? systemClock;
  removeStaleTempFiles(stateDir);

  const before = readBootState(stateDir);
  const decision = decideBoot(before, clock.now(), slotVerifier(stateDir, options.check ?? "sha256"));
  if (JSON.stringify(decision.state) !== JSON.stringify(before)) {
    writeBootState(stateDir, decision.state);
  }

  const slotLog = options.log ?? log;
  const selection = toSelection(stateDir, decision.state, decision.action);
  const logFields = { slot: selection.slot, version: selection.record?.version ?? null, action: selection.action, triesLeft: selection.triesLeft };
  if (decision.action === "reverted" || decision.action === "fallback") {
    slotLog.warn(logFields, "boot slot changed");
  } else {
    slotLog.info(logFields, "boot slot resolved");
  }

  const starts = selection.record === null ? "the built-in release" : `${selection.record.version} in slot ${selection.slot}`;
  for (const mark of newMarks(before, decision.state)) {
    const why = badReasonText(mark.reason, before.trial?.healthTimeoutMs);
    slotLog.warn({ version: mark.version, target: mark.targetName, reason: mark.reason, slot: selection.slot }, `release ${mark.version} marked bad: ${why}, so ${starts} starts instead`);
  }
  return selection;
}

/** Returns the bad-release marks that `after` adds to `before`. */
function newMarks(before: BootState, after: BootState): BadRelease[] {
  return after.bad.filter((mark) => !before.bad.some((old) => old.targetName === mark.targetName && old.sha256 === mark.sha256 && old.at === mark.at));
}

/** Explains a bad-release reason in words, for the log. */
function badReasonText(reason: BadRelease["reason"], healthTimeoutMs: number | undefined): string {
  switch (reason) {
    case "trial-failed":
      return "it did not report healthy before its trial ran out of starts";
    case "health-timeout":
      return `it did not report healthy within its health timeout of ${healthTimeoutMs ?? "(unknown)"} ms`;
    case "image-invalid":
      return "its slot image is missing or does not match its recorded SHA-256";
    case "user-rollback":
      return "it was rolled back on request";
  }
}

/**
 * Ends the trial of the running slot; the daemon calls it once its health
 * checks pass, at every start. Returns the record of the active slot, or
 * null with the built-in version. Raising the release-counter floor is the
 * caller's step, after this returns.
 */
export function markHealthy(stateDir: string, options: SlotOptions = {}): SlotRecord | null {
  const clock = options.clock ?? systemClock;
  const before = readBootState(stateDir);
  const state = confirmHealthy(before, clock.now());
  const record = state.active === null ? null : state.slots[state.active];
  if (state === before) {
    return record;
  }

  writeBootState(stateDir, state);
  log.info({ slot: state.active, version: record?.version ?? null }, "slot confirmed healthy");
  return record;
}

/**
 * Switches to the other slot on user request, if its image verifies, and
 * marks the release left behind as bad. Takes effect at the next start.
 */
export function rollback(stateDir: string, options: SlotOptions = {}): BootSelection {
  const clock = options.clock ?? systemClock;
  const before = readBootState(stateDir);
  const state = rollbackTo(before, clock.now(), slotVerifier(stateDir, options.check ?? "sha256"));
  writeBootState(stateDir, state);

  const selection = toSelection(stateDir, state, "good");
  log.warn({ from: before.active, to: state.active, version: selection.record?.version ?? null }, "rolled back on request");
  return selection;
}

/** Lets a release marked bad be installed again. */
export function clearBadRelease(stateDir: string, targetName: string, sha256: string): void {
  writeBootState(stateDir, clearBadReleaseRule(readBootState(stateDir), targetName, sha256));
  log.info({ target: targetName }, "bad-release mark cleared");
}

/**
 * Lets every target of `version` marked bad be installed again, and returns
 * the marks removed. The boot state is written only when a mark is removed.
 */
export function clearBadVersion(stateDir: string, version: string): BadRelease[] {
  const before = readBootState(stateDir);
  const removed = before.bad.filter((entry) => entry.version === version);
  if (removed.length === 0) {
    return [];
  }

  writeBootState(stateDir, { ...before, bad: before.bad.filter((entry) => entry.version !== version) });
  log.info({ version, targets: removed.map((entry) => entry.targetName) }, "bad-release marks cleared");
  return removed;
}

/** Returns a verifier that reads the slot image; `length` checks only the size. */
export function slotVerifier(stateDir: string, check: SlotCheck): SlotVerifier {
  return (slot, record) => {
    const path = slotImagePath(stateDir, slot);
    if (!existsSync(path)) {
      log.warn({ slot }, "slot image is missing");
      return false;
    }
    if (check === "length") {
      return statSync(path).size === record.length;
    }

    const actual = sha256File(path);
    const matches = actual.length === record.length && actual.sha256 === record.sha256;
    if (!matches) {
      log.warn({ slot, expected: record.sha256, actual: actual.sha256, length: actual.length }, "slot image does not match its record");
    }
    return matches;
  };
}

function toSelection(stateDir: string, state: BootState, action: BootAction): BootSelection {
  const slot = state.active;
  const record = slot === null ? null : state.slots[slot];
  const trial = state.trial !== null && state.trial.slot === slot ? state.trial : null;
  return {
    slot,
    imagePath: slot === null ? null : slotImagePath(stateDir, slot),
    record,
    action,
    triesLeft: trial?.triesLeft ?? null,
    healthDeadline: trial === null || trial.firstStartAt === null ? null : trial.firstStartAt + trial.healthTimeoutMs,
  };
}

/** Removes temp files that an interrupted atomic write of the boot state left behind. */
function removeStaleTempFiles(stateDir: string): void {
  if (!existsSync(stateDir)) {
    return;
  }
  for (const entry of readdirSync(stateDir)) {
    if (entry.startsWith(`.${BOOT_STATE_FILE}.`) && entry.endsWith(".tmp")) {
      rmSync(join(stateDir, entry), { force: true });
      log.info({ file: entry }, "removed temp file of an interrupted boot-state write");
    }
  }
}

function parseBootState(value: unknown, path: string): BootState {
  const state = value as Partial<BootState> | null;
  if (typeof state !== "object" || state === null || state.format !== 1) {
    throw new BootStateInvalid(path, "format is not 1");
  }
  if (state.active !== null && !SLOT_NAMES.includes(state.active as SlotName)) {
    throw new BootStateInvalid(path, `active is ${JSON.stringify(state.active)}, expected "a", "b" or null`);
  }
  if (typeof state.slots !== "object" || state.slots === null || !Array.isArray(state.bad)) {
    throw new BootStateInvalid(path, "slots or bad is missing");
  }

  for (const slot of SLOT_NAMES) {
    const record = state.slots[slot];
    if (record === undefined || (record !== null && (typeof record.sha256 !== "string" || typeof record.length !== "number"))) {
      throw new BootStateInvalid(path, `slot ${slot} has no valid record`);
    }
  }
  if (state.trial !== null && (typeof state.trial !== "object" || !SLOT_NAMES.includes(state.trial?.slot as SlotName))) {
    throw new BootStateInvalid(path, "trial is malformed");
  }
  return state as BootState;
}
