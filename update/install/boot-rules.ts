import { NoRollbackSlot, NoTrialToConfirm, TrialInProgress } from "./errors.ts";
import type { TrialSettings } from "./settings.ts";

/**
 * Rules of the A/B boot state, with no I/O: each function takes a state and
 * returns the next one, and the caller persists it atomically before it acts.
 *
 * 1. An image is written only to the inactive slot, and that slot is marked
 *    empty in the boot state before the write. A power cut therefore never
 *    leaves a half-written slot that the state lists as valid.
 * 2. Switching is one write of the state: the new slot becomes active with
 *    a trial of `tries` starts (boot counting).
 * 3. Every start takes one try. A start with no tries left, or after the
 *    health timeout, reverts to the previous slot and marks the release bad
 *    so it is not installed again in a loop.
 * 4. A health report ends the trial; the slot is then the good one.
 * 5. The slot that starts must hold an image whose hash matches its record;
 *    otherwise the other slot starts, or none (the built-in version).
 */

export type SlotName = "a" | "b";

export const SLOT_NAMES: readonly SlotName[] = ["a", "b"];

/** Record of the verified image in a slot. */
export interface SlotRecord {
  targetName: string;
  version: string;
  /** SHA-256 of the image file, lowercase hex. */
  sha256: string;
  /** Length of the image file, in bytes. */
  length: number;
  /** Time the image was moved into the slot, in milliseconds since the epoch. */
  installedAt: number;
  /** Signed release counter of the image; missing in records written before it was stored. */
  counter?: number;
}

/** A newly switched slot that has not reported healthy yet. */
export interface Trial {
  slot: SlotName;
  /** Slot to return to when the trial fails; null returns to the built-in version. */
  previous: SlotName | null;
  /** Starts left before the next start reverts. */
  triesLeft: number;
  /** Time of the first start of the slot, in milliseconds since the epoch; null before it. */
  firstStartAt: number | null;
  /** Time allowed from the first start to the health report, in milliseconds. */
  healthTimeoutMs: number;
}

export type BadReason = "trial-failed" | "health-timeout" | "image-invalid" | "user-rollback";

/** A release that is not installed again. */
export interface BadRelease {
  targetName: string;
  version: string;
  sha256: string;
  reason: BadReason;
  /** Time it was marked, in milliseconds since the epoch. */
  at: number;
}

export interface BootState {
  format: 1;
  /** Slot that starts; null runs the built-in version. */
  active: SlotName | null;
  slots: Record<SlotName, SlotRecord | null>;
  trial: Trial | null;
  /** Releases marked bad, oldest first, at most {@link MAX_BAD_RELEASES}. */
  bad: BadRelease[];
}

/** Number of bad releases kept; older entries are dropped first. */
export const MAX_BAD_RELEASES = 32;

/** Change that a start made to the boot state. */
export type BootAction =
  | "none" // nothing installed: the built-in version runs
  | "good" // the active slot was confirmed healthy before
  | "trial" // the active slot is on trial and one try was taken
  | "reverted" // the trial failed, so the previous slot starts
  | "fallback"; // the active image did not verify, so the other slot (or none) starts

export interface BootDecision {
  state: BootState;
  slot: SlotName | null;
  action: BootAction;
}

/** Returns whether the image in `slot` matches its record; the caller does the I/O. */
export type SlotVerifier = (slot: SlotName, record: SlotRecord) => boolean;

export function initialBootState(): BootState {
  return { format: 1, active: null, slots: { a: null, b: null }, trial: null, bad: [] };
}

export function otherSlot(slot: SlotName): SlotName {
  return slot === "a" ? "b" : "a";
}

/** Returns the slot an install writes to: the one that is not active. */
export function inactiveSlot(state: BootState): SlotName {
  return state.active === null ? "a" : otherSlot(state.active);
}

export function findBadRelease(state: BootState, targetName: string, sha256: string): BadRelease | undefined {
  return state.bad.find((entry) => entry.targetName === targetName && entry.sha256 === sha256);
}

export function clearBadRelease(state: BootState, targetName: string, sha256: string): BootState {
  return { ...state, bad: state.bad.filter((entry) => entry.targetName !== targetName || entry.sha256 !== sha256) };
}

/** Rule 1: empties the inactive slot's record before its image is replaced. */
export function beginStaging(state: BootState): { state: BootState; slot: SlotName } {
  if (state.trial !== null) {
    throw new TrialInProgress(state.trial.slot, state.slots[state.trial.slot]?.version ?? "(unknown)");
  }

  const slot = inactiveSlot(state);
  return { state: { ...state, slots: { ...state.slots, [slot]: null } }, slot };
}

/** Rule 1: records the verified image once it is in the slot. */
export function recordStaged(state: BootState, slot: SlotName, record: SlotRecord): BootState {
  return { ...state, slots: { ...state.slots, [slot]: record } };
}

/** Rule 2: makes `slot` active on trial; the previous slot stays as the way back. */
export function switchTo(state: BootState, slot: SlotName, settings: TrialSettings): BootState {
  const trial: Trial = {
    slot,
    previous: state.active,
    triesLeft: settings.tries,
    firstStartAt: null,
    healthTimeoutMs: settings.healthTimeoutMs,
  };
  return { ...state, active: slot, trial };
}

/** Rules 3 and 5: decides which slot this start runs; `now` is in milliseconds since the epoch. */
export function decideBoot(state: BootState, now: number, verifies: SlotVerifier): BootDecision {
  let next = state;
  let action: BootAction = state.active === null ? "none" : "good";

  // NOTE: the health timeout compares wall-clock times, so a clock set
  // forward between starts reverts early and a clock set back extends the
  // trial. The tries still bound the number of starts.
  const trial = state.trial;
  if (trial !== null) {
    const timedOut = trial.firstStartAt !== null && now - trial.firstStartAt > trial.healthTimeoutMs;
    if (timedOut || trial.triesLeft <= 0) {
      next = revertTrial(next, timedOut ? "health-timeout" : "trial-failed", now);
      action = "reverted";
    } else {
      next = { ...next, trial: { ...trial, triesLeft: trial.triesLeft - 1, firstStartAt: trial.firstStartAt ?? now } };
      action = "trial";
    }
  }

  // Rule 5: the set of checked slots stops the loop after at most two checks.
  const checked = new Set<SlotName>();
  while (next.active !== null && !checked.has(next.active)) {
    const slot = next.active;
    const record = next.slots[slot];
    checked.add(slot);
    if (record !== null && verifies(slot, record)) {
      return { state: next, slot, action };
    }

    next = fallBackFrom(next, slot, now);
    action = "fallback";
  }

  return { state: { ...next, active: null }, slot: null, action };
}

/**
 * Rule 4: ends the trial of the active slot. Without a trial the state is
 * returned unchanged, so the daemon can report health at every start.
 */
export function confirmHealthy(state: BootState, now: number): BootState {
  const trial = state.trial;
  if (trial === null) {
    return state;
  }
  if (trial.slot !== state.active) {
    throw new NoTrialToConfirm(`slot ${trial.slot} is on trial but slot ${state.active ?? "(none)"} is active`);
  }
  if (trial.firstStartAt !== null && now - trial.firstStartAt > trial.healthTimeoutMs) {
    throw new NoTrialToConfirm(`the health timeout of ${trial.healthTimeoutMs} ms has passed, so the next start reverts`);
  }

  return { ...state, trial: null };
}

/**
 * Switches back to the other slot on user request and marks the release
 * left behind as bad, so automatic updates do not reinstall it.
 */
export function rollbackTo(state: BootState, now: number, verifies: SlotVerifier): BootState {
  const target = state.active === null ? null : otherSlot(state.active);
  const record = target === null ? null : state.slots[target];
  if (target === null || record === null || findBadRelease(state, record.targetName, record.sha256) !== undefined) {
    throw new NoRollbackSlot(target);
  }
  if (!verifies(target, record)) {
    throw new NoRollbackSlot(target);
  }

  const marked = markActiveBad(state, "user-rollback", now);
  return { ...marked, active: target, trial: null };
}

function revertTrial(state: BootState, reason: BadReason, now: number): BootState {
  const previous = state.trial?.previous ?? null;
  return { ...markActiveBad(state, reason, now), active: previous, trial: null };
}

/** Rule 5: the active image is missing or changed, so the other slot is tried. */
function fallBackFrom(state: BootState, slot: SlotName, now: number): BootState {
  if (state.trial !== null && state.trial.slot === slot) {
    return revertTrial(state, "image-invalid", now);
  }

  // A release marked bad is not started again, even as a fallback.
  const other = otherSlot(slot);
  const otherRecord = state.slots[other];
  const usable = otherRecord !== null && findBadRelease(state, otherRecord.targetName, otherRecord.sha256) === undefined;
  const cleared: BootState = { ...state, slots: { ...state.slots, [slot]: null } };
  return { ...cleared, active: usable ? other : null };
}

function markActiveBad(state: BootState, reason: BadReason, now: number): BootState {
  const record = state.active === null ? null : state.slots[state.active];
  if (record === null) {
    return state;
  }

  const entry: BadRelease = { targetName: record.targetName, version: record.version, sha256: record.sha256, reason, at: now };
  const others = state.bad.filter((bad) => bad.targetName !== record.targetName || bad.sha256 !== record.sha256);
  return { ...state, bad: [...others, entry].slice(-MAX_BAD_RELEASES) };
}
