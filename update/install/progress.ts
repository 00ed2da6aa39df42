import type { Clock } from "./clock.ts";

/** Phase of one update, in the order they run; `failed` can follow any of them. */
export type InstallPhase = "downloading" | "verifying" | "staging" | "switching" | "done" | "failed";

/** A snapshot of one update's progress, for the admin API and the CLI. */
export interface InstallProgress {
  phase: InstallPhase;
  targetName: string;
  version: string;
  /** Bytes of the image on disk, including a resumed prefix. */
  bytesDone: number;
  /** Signed length of the image, in bytes. */
  bytesTotal: number;
  /** Average download rate of this attempt, in bytes per second; 0 before the first byte. */
  rateBytesPerSecond: number;
  /** Estimated seconds left at the current rate, or null while the rate is unknown. */
  etaSeconds: number | null;
  /** Message of the error when `phase` is `failed`. */
  error?: string;
}

export type ProgressListener = (progress: InstallProgress) => void;

/**
 * Computes rate and ETA of one update and passes snapshots to a listener.
 * The rate is the average over the bytes received in this attempt, so a
 * resumed prefix read from disk does not inflate it.
 */
export class ProgressTracker {
  private phase: InstallPhase = "downloading";
  private bytesDone = 0;
  private attemptStartBytes = 0;
  private attemptStartMs: number;
  private lastEmitMs = Number.NEGATIVE_INFINITY;
  private latestSnapshot: InstallProgress;

  constructor(
    private readonly targetName: string,
    private readonly version: string,
    private readonly bytesTotal: number,
    private readonly clock: Clock,
    private readonly intervalMs: number,
    private readonly listener: ProgressListener = () => {},
  ) {
    this.attemptStartMs = clock.now();
    this.latestSnapshot = this.snapshot();
  }

  /** Starts counting the rate from `bytesOnDisk`, at the start of a request. */
  startAttempt(bytesOnDisk: number): void {
    this.bytesDone = bytesOnDisk;
    this.attemptStartBytes = bytesOnDisk;
    this.attemptStartMs = this.clock.now();
    this.emit();
  }

  /** Records the byte count, and emits it unless the last emit is less than one interval old. */
  update(bytesDone: number): void {
    this.bytesDone = bytesDone;
    if (this.clock.now() - this.lastEmitMs >= this.intervalMs) {
      this.emit();
    }
  }

  /**
   * Counts the whole image as done without a download, because a slot
   * already contains it verified. The rate stays 0, as no byte was received.
   */
  completeFromDisk(): void {
    this.bytesDone = this.bytesTotal;
    this.attemptStartBytes = this.bytesTotal;
  }

  /** Enters `phase` and emits at once. */
  enter(phase: InstallPhase, error?: string): void {
    this.phase = phase;
    this.emit(error);
  }

  get latest(): InstallProgress {
    return this.latestSnapshot;
  }

  private emit(error?: string): void {
    this.lastEmitMs = this.clock.now();
    this.latestSnapshot = this.snapshot(error);
    this.listener(this.latestSnapshot);
  }

  private snapshot(error?: string): InstallProgress {
    const elapsedSeconds = (this.clock.now() - this.attemptStartMs) / 1000;
    const received = this.bytesDone - this.attemptStartBytes;
    const rate = elapsedSeconds > 0 && received > 0 ? received / elapsedSeconds : 0;
    const eta = rate > 0 ? Math.ceil((this.bytesTotal - this.bytesDone) / rate) : null;

    const progress: InstallProgress = {
      phase: this.phase,
      targetName: this.targetName,
      version: this.version,
      bytesDone: this.bytesDone,
      bytesTotal: this.bytesTotal,
      rateBytesPerSecond: Math.round(rate),
      etaSeconds: this.phase === "downloading" ? eta : null,
    };
    if (error !== undefined) {
      progress.error = error;
    }
    return progress;
  }
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

/** Formats a byte count with binary units, for example `1.5 GiB`. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** Formats seconds as `42s`, `3m05s` or `1h02m`. */
export function formatDuration(seconds: number): string {
  if (seconds < 60) {
    return `${seconds}s`;
  }
  if (seconds < 3600) {
    return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, "0")}s`;
  }
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, "0")}m`;
}

/**
 * Formats one line of text for a CLI, for example
 * `2.4.0 downloading  52.3% 535.0 MiB / 1.0 GiB  118.2 MiB/s  ETA 4s`.
 */
export function formatProgressLine(progress: InstallProgress): string {
  const percent = progress.bytesTotal > 0 ? (100 * progress.bytesDone) / progress.bytesTotal : 100;
  const parts = [
    progress.version,
    progress.phase.padEnd(11),
    `${percent.toFixed(1).padStart(5)}%`,
    `${formatBytes(progress.bytesDone)} / ${formatBytes(progress.bytesTotal)}`,
  ];

  if (progress.phase === "downloading") {
    parts.push(`${formatBytes(progress.rateBytesPerSecond)}/s`);
    parts.push(progress.etaSeconds === null ? "ETA --" : `ETA ${formatDuration(progress.etaSeconds)}`);
  }
  if (progress.phase === "failed" && progress.error !== undefined) {
    parts.push(progress.error);
  }
  return parts.join("  ");
}
