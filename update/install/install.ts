import { mkdirSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { logger, type Logger } from "../../daemon/log.ts";
import { syncFolder } from "../../daemon/state/atomic.ts";
import { beginStaging, findBadRelease, inactiveSlot, recordStaged, switchTo, type BootState, type SlotName, type SlotRecord } from "./boot-rules.ts";
import { systemClock, type Clock } from "./clock.ts";
import { downloadTarget, PARTIAL_SIDECAR_FILE, type StatFs } from "./download.ts";
import { InstallInProgress, ReleaseMarkedBad, TrialInProgress } from "./errors.ts";
import { ProgressTracker, type InstallProgress, type ProgressListener } from "./progress.ts";
import { DEFAULT_DOWNLOAD_LIMITS, DEFAULT_TRIAL_SETTINGS, type DownloadLimits, type TrialSettings } from "./settings.ts";
import { readBootState, slotImagePath, slotVerifier, STAGING_DIR, writeBootState } from "./slots.ts";
import { assertValidTarget, type UpdateTarget } from "./target.ts";

/**
 * Durable steps of an install, in order. Each is reported through
 * `onStep` right after its effect is on disk.
 */
export type InstallStep =
  | "download-verified" // the staging file contains the whole image and its hash matched
  | "slot-cleared" // the boot state no longer lists an image in the inactive slot
  | "image-moved" // the staging file was renamed into the inactive slot
  | "slot-recorded" // the boot state lists the new image in the inactive slot
  | "switched"; // the boot state makes the new slot active on trial

export interface InstallOptions {
  limits?: Partial<DownloadLimits>;
  trial?: Partial<TrialSettings>;
  clock?: Clock;
  statfs?: StatFs;
  onProgress?: ProgressListener;
  onStep?: (step: InstallStep) => void;
  log?: Logger;
}

export type InstallResult =
  | { status: "installed"; slot: SlotName; record: SlotRecord }
  | { status: "already-installed"; slot: SlotName; record: SlotRecord };

const running = new Set<string>();

/**
 * Downloads `target`, verifies it, moves it into the inactive slot and
 * switches to that slot on trial. The new slot starts at the next
 * {@link resolveBootSlot} call, and must then call `markHealthy` in time.
 *
 * Progress goes to `onProgress`; on failure a `failed` event carries the
 * error message and the typed error is thrown.
 */
export async function installUpdate(stateDir: string, target: UpdateTarget, options: InstallOptions = {}): Promise<InstallResult> {
  assertValidTarget(target);
  if (running.has(stateDir)) {
    throw new InstallInProgress(stateDir);
  }

  running.add(stateDir);
  try {
    return await runInstall(stateDir, target, options);
  } finally {
    running.delete(stateDir);
  }
}

async function runInstall(stateDir: string, target: UpdateTarget, options: InstallOptions): Promise<InstallResult> {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? logger("update.install");
  const limits = { ...DEFAULT_DOWNLOAD_LIMITS, ...options.limits };
  const trialSettings = { ...DEFAULT_TRIAL_SETTINGS, ...options.trial };
  const onStep = options.onStep ?? (() => {});
  const progress = new ProgressTracker(target.name, target.custom.version, target.length, clock, limits.progressIntervalMs, options.onProgress);

  try {
    const initial = readBootState(stateDir);
    if (initial.trial !== null) {
      throw new TrialInProgress(initial.trial.slot, initial.slots[initial.trial.slot]?.version ?? "(unknown)");
    }
    const bad = findBadRelease(initial, target.name, target.sha256);
    if (bad !== undefined) {
      throw new ReleaseMarkedBad(target.name, target.sha256, bad.reason, bad.version);
    }

    const activeRecord = initial.active === null ? null : initial.slots[initial.active];
    if (initial.active !== null && activeRecord !== null && activeRecord.sha256 === target.sha256) {
      log.info({ target: target.name, version: target.custom.version, slot: initial.active }, "target is already the active slot");
      progress.completeFromDisk();
      progress.enter("done");
      return { status: "already-installed", slot: initial.active, record: activeRecord };
    }

    // An install cut off after the image was recorded in the inactive slot
    // only needs the switch, once the image still verifies.
    let staged = findStagedTarget(stateDir, initial, target);
    if (staged === null) {
      const stagingDir = join(stateDir, STAGING_DIR);
      const stagedPath = await downloadTarget(target, { stagingDir, limits, clock, progress, log, statfs: options.statfs });
      onStep("download-verified");

      progress.enter("staging");
      staged = moveIntoInactiveSlot(stateDir, stagedPath, target, clock, onStep);
    } else {
      log.info({ target: target.name, slot: staged.slot }, "inactive slot already contains the verified target; switching");
      progress.completeFromDisk();
    }

    progress.enter("switching");
    writeBootState(stateDir, switchTo(readBootState(stateDir), staged.slot, trialSettings));
    onStep("switched");

    progress.enter("done");
    log.info({ target: target.name, version: target.custom.version, slot: staged.slot, tries: trialSettings.tries }, "update installed; the next start runs it on trial");
    return { status: "installed", slot: staged.slot, record: staged.record };
  } catch (error) {
    progress.enter("failed", (error as Error).message);
    log.error({ target: target.name, version: target.custom.version, err: error }, "update install failed");
    throw error;
  }
}

function findStagedTarget(stateDir: string, state: BootState, target: UpdateTarget): { slot: SlotName; record: SlotRecord } | null {
  const slot = inactiveSlot(state);
  const record = state.slots[slot];
  if (record === null || record.targetName !== target.name || record.sha256 !== target.sha256 || record.length !== target.length) {
    return null;
  }
  return slotVerifier(stateDir, "sha256")(slot, record) ? { slot, record } : null;
}

/**
 * Replaces the inactive slot's image with the verified staging file. The
 * boot state stops listing the slot before the rename and lists the new
 * image only after it, so a power cut in between leaves a slot that no
 * start will choose.
 */
function moveIntoInactiveSlot(
  stateDir: string,
  stagedPath: string,
  target: UpdateTarget,
  clock: Clock,
  onStep: (step: InstallStep) => void,
): { slot: SlotName; record: SlotRecord } {
  const cleared = beginStaging(readBootState(stateDir));
  writeBootState(stateDir, cleared.state);
  onStep("slot-cleared");

  const imagePath = slotImagePath(stateDir, cleared.slot);
  mkdirSync(dirname(imagePath), { recursive: true, mode: 0o700 });
  renameSync(stagedPath, imagePath);
  syncFolder(dirname(imagePath));
  syncFolder(dirname(stagedPath));
  onStep("image-moved");

  const record: SlotRecord = {
    targetName: target.name,
    version: target.custom.version,
    sha256: target.sha256,
    length: target.length,
    installedAt: clock.now(),
    ...(typeof target.custom.counter === "number" ? { counter: target.custom.counter } : {}),
  };
  writeBootState(stateDir, recordStaged(cleared.state, cleared.slot, record));
  rmSync(join(dirname(stagedPath), PARTIAL_SIDECAR_FILE), { force: true });
  onStep("slot-recorded");

  return { slot: cleared.slot, record };
}

export type { InstallProgress };
