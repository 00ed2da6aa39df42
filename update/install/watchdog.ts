import type { Clock } from "./clock.ts";
import { DownloadStalled } from "./errors.ts";
import type { DownloadLimits } from "./settings.ts";

interface Sample {
  atMs: number;
  bytes: number;
}

/**
 * Cuts off a slow or silent server. A server that sends too slowly can hold
 * an update back for days (slow-retrieval attack), so three limits apply: an
 * overall deadline, an idle timeout, and a minimum average rate over a
 * sliding window. The deadline is checked on every chunk and all three every
 * `checkIntervalMs`. The first limit exceeded calls `onStall` once.
 */
export class StallWatchdog {
  private startMs = 0;
  private lastByteMs = 0;
  private bytes = 0;
  private samples: Sample[] = [];
  private stopTimer: (() => void) | null = null;
  private stalled: DownloadStalled | null = null;

  constructor(
    private readonly limits: DownloadLimits,
    private readonly clock: Clock,
    private readonly url: string,
    private readonly onStall: (error: DownloadStalled) => void,
  ) {}

  /** The limit that tripped, or null. */
  get error(): DownloadStalled | null {
    return this.stalled;
  }

  /** Starts the checks; `deadlineStartMs` is the time from which `deadlineMs` counts. */
  start(deadlineStartMs: number): void {
    const now = this.clock.now();
    this.startMs = deadlineStartMs;
    this.lastByteMs = now;
    this.samples = [{ atMs: now, bytes: 0 }];
    this.stopTimer = this.clock.every(this.limits.checkIntervalMs, () => this.tick());
  }

  /** Records `count` more bytes received in this attempt. */
  received(count: number): void {
    this.bytes += count;
    this.lastByteMs = this.clock.now();
    this.checkDeadline();
  }

  stop(): void {
    this.stopTimer?.();
    this.stopTimer = null;
  }

  private tick(): void {
    const now = this.clock.now();
    this.samples.push({ atMs: now, bytes: this.bytes });

    this.checkDeadline();
    if (now - this.lastByteMs > this.limits.idleTimeoutMs) {
      this.trip("idle", "idleTimeoutMs", this.limits.idleTimeoutMs);
    }
    this.checkThroughput(now);
  }

  private checkDeadline(): void {
    if (this.clock.now() - this.startMs > this.limits.deadlineMs) {
      this.trip("deadline", "deadlineMs", this.limits.deadlineMs);
    }
  }

  private checkThroughput(now: number): void {
    if (this.limits.minBytesPerSecond <= 0) {
      return;
    }

    // Keep the newest sample that is at least one window old as the base.
    const windowStart = now - this.limits.throughputWindowMs;
    while (this.samples.length > 1 && this.samples[1]!.atMs <= windowStart) {
      this.samples.shift();
    }
    const base = this.samples[0]!;
    if (base.atMs > windowStart) {
      return;
    }

    const rate = ((this.bytes - base.bytes) * 1000) / (now - base.atMs);
    if (rate < this.limits.minBytesPerSecond) {
      this.trip("throughput", "minBytesPerSecond", this.limits.minBytesPerSecond);
    }
  }

  private trip(reason: DownloadStalled["reason"], limitName: string, limitValue: number): void {
    if (this.stalled !== null) {
      return;
    }
    this.stalled = new DownloadStalled(reason, limitName, limitValue, this.bytes, this.clock.now() - this.startMs, this.url);
    this.stop();
    this.onStall(this.stalled);
  }
}
