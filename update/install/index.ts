/**
 * Streaming download and A/B install of verified update images. The TUF
 * client hands over a verified target; this layer fetches, verifies,
 * stages, switches and reverts.
 */
export {
  beginStaging,
  decideBoot,
  confirmHealthy,
  findBadRelease,
  inactiveSlot,
  initialBootState,
  rollbackTo,
  MAX_BAD_RELEASES,
  type BadRelease,
  type BadReason,
  type BootAction,
  type BootDecision,
  type BootState,
  type SlotName,
  type SlotRecord,
  type Trial,
} from "./boot-rules.ts";
export { systemClock, type Clock } from "./clock.ts";
export { discardPartial, downloadTarget, PARTIAL_FILE, PARTIAL_SIDECAR_FILE, type DownloadOptions, type StatFs } from "./download.ts";
export * from "./errors.ts";
export { sha256File } from "./hash.ts";
export { installUpdate, type InstallOptions, type InstallResult, type InstallStep } from "./install.ts";
export { formatBytes, formatDuration, formatProgressLine, ProgressTracker, type InstallPhase, type InstallProgress, type ProgressListener } from "./progress.ts";
export {
  backoffDelayMs,
  DEFAULT_BACKOFF,
  DEFAULT_DOWNLOAD_LIMITS,
  DEFAULT_TRIAL_SETTINGS,
  type BackoffSettings,
  type DownloadLimits,
  type TrialSettings,
} from "./settings.ts";
export {
  BOOT_STATE_FILE,
  clearBadRelease,
  clearBadVersion,
  markHealthy,
  readBootState,
  resolveBootSlot,
  rollback,
  slotImagePath,
  STAGING_DIR,
  type BootSelection,
  type SlotCheck,
  type SlotOptions,
} from "./slots.ts";
export { assertValidTarget, type UpdateTarget } from "./target.ts";
