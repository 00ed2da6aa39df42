/**
 * Limits and defaults of the download and A/B install. Every value names its
 * unit. The defaults are estimates for an appliance on a home or office
 * line; tune them per deployment.
 */

/** Limits that cut off slow and endless update servers. */
export interface DownloadLimits {
  /** Maximum time for one download call, including a restart from byte 0, in milliseconds. */
  deadlineMs: number;
  /** Maximum time without any received byte, in milliseconds. */
  idleTimeoutMs: number;
  /** Minimum average rate over {@link throughputWindowMs}, in bytes per second; 0 turns the check off. */
  minBytesPerSecond: number;
  /** Window over which the minimum rate is measured, in milliseconds. */
  throughputWindowMs: number;
  /** Interval at which the limits are checked while no byte arrives, in milliseconds. */
  checkIntervalMs: number;
  /** Minimum interval between two `downloading` progress events, in milliseconds. */
  progressIntervalMs: number;
}

export const DEFAULT_DOWNLOAD_LIMITS: Readonly<DownloadLimits> = {
  deadlineMs: 60 * 60 * 1000,
  idleTimeoutMs: 60 * 1000,
  minBytesPerSecond: 16 * 1024,
  throughputWindowMs: 60 * 1000,
  checkIntervalMs: 1000,
  progressIntervalMs: 250,
};

/** Boot counting of a newly switched slot. */
export interface TrialSettings {
  /** Starts the new slot gets before the next start reverts to the previous slot. */
  tries: number;
  /** Time from the first start of the new slot to its health report, in milliseconds. */
  healthTimeoutMs: number;
}

export const DEFAULT_TRIAL_SETTINGS: Readonly<TrialSettings> = {
  tries: 3,
  healthTimeoutMs: 10 * 60 * 1000,
};

/** Size of the buffer used to hash files already on disk, in bytes. */
export const HASH_READ_CHUNK_BYTES = 1024 * 1024;

/** Backoff between two download attempts, for callers that retry. */
export interface BackoffSettings {
  /** Delay after the first failure, in milliseconds. */
  baseMs: number;
  /** Upper bound of the delay, in milliseconds. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: Readonly<BackoffSettings> = {
  baseMs: 30 * 1000,
  maxMs: 6 * 60 * 60 * 1000,
};

/**
 * Returns the delay before retry number `attempt` (1 for the first retry),
 * in milliseconds: the base doubled per attempt, capped at `maxMs`, with full
 * jitter from `random` so a fleet does not retry in step.
 */
export function backoffDelayMs(attempt: number, settings: BackoffSettings = DEFAULT_BACKOFF, random = Math.random): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const ceiling = Math.min(settings.baseMs * 2 ** exponent, settings.maxMs);
  return Math.floor(ceiling * random());
}
