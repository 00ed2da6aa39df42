import { describe, expect, test } from "bun:test";
import { formatBytes, formatDuration, formatProgressLine, ProgressTracker, type InstallProgress } from "../../update/install/progress.ts";
import { backoffDelayMs } from "../../update/install/settings.ts";
import { ManualClock } from "./helpers.ts";

const MiB = 1024 * 1024;

describe("ProgressTracker", () => {
  test("computes rate and ETA from this attempt", () => {
    const clock = new ManualClock();
    const events: InstallProgress[] = [];
    const tracker = new ProgressTracker("boxd.img", "2.4.0", 100 * MiB, clock, 0, (p) => events.push(p));

    tracker.startAttempt(40 * MiB);
    clock.advance(2000);
    tracker.update(60 * MiB);

    expect(events.at(-1)).toEqual({
      phase: "downloading",
      targetName: "boxd.img",
      version: "2.4.0",
      bytesDone: 60 * MiB,
      bytesTotal: 100 * MiB,
      rateBytesPerSecond: 10 * MiB,
      etaSeconds: 4,
    });
  });

  test("emits at most once per interval", () => {
    const clock = new ManualClock();
    const events: InstallProgress[] = [];
    const tracker = new ProgressTracker("boxd.img", "2.4.0", 100, clock, 250, (p) => events.push(p));
    tracker.startAttempt(0);

    tracker.update(10);
    clock.advance(249);
    tracker.update(20);
    clock.advance(1);
    tracker.update(30);

    expect(events.map((p) => p.bytesDone)).toEqual([0, 30]);
    expect(tracker.latest.bytesDone).toBe(30);
  });

  test("phase changes emit at once", () => {
    const clock = new ManualClock();
    const events: InstallProgress[] = [];
    const tracker = new ProgressTracker("boxd.img", "2.4.0", 100, clock, 60_000, (p) => events.push(p));

    tracker.enter("verifying");
    tracker.enter("failed", "disk full");

    expect(events.map((p) => [p.phase, p.etaSeconds, p.error])).toEqual([
      ["verifying", null, undefined],
      ["failed", null, "disk full"],
    ]);
  });
});

describe("formatProgressLine", () => {
  const base: InstallProgress = {
    phase: "downloading",
    targetName: "boxd.img",
    version: "2.4.0",
    bytesDone: 535 * MiB,
    bytesTotal: 1024 * MiB,
    rateBytesPerSecond: 118 * MiB,
    etaSeconds: 5,
  };

  test.each([
    ["downloading", base, "2.4.0  downloading   52.2%  535.0 MiB / 1.0 GiB  118.0 MiB/s  ETA 5s"],
    ["unknown rate", { ...base, bytesDone: 0, rateBytesPerSecond: 0, etaSeconds: null }, "2.4.0  downloading    0.0%  0 B / 1.0 GiB  0 B/s  ETA --"],
    ["done", { ...base, phase: "done", bytesDone: 1024 * MiB, etaSeconds: null }, "2.4.0  done         100.0%  1.0 GiB / 1.0 GiB"],
    ["failed", { ...base, phase: "failed", error: "HTTP 404" }, "2.4.0  failed        52.2%  535.0 MiB / 1.0 GiB  HTTP 404"],
  ] as const)("formats %s", (_name, progress, line) => {
    expect(formatProgressLine(progress as InstallProgress)).toBe(line);
  });

  test.each([
    [0, "0 B"],
    [1536, "1.5 KiB"],
    [3 * 1024 * MiB, "3.0 GiB"],
  ])("formatBytes %d", (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  test.each([
    [42, "42s"],
    [185, "3m05s"],
    [3720, "1h02m"],
  ])("formatDuration %d", (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});

describe("backoffDelayMs", () => {
  test.each([
    [1, 1, 30_000],
    [3, 1, 120_000],
    [40, 1, 6 * 60 * 60 * 1000],
    [2, 0.5, 30_000],
  ])("attempt %d with random %d", (attempt, random, delay) => {
    expect(backoffDelayMs(attempt, { baseMs: 30_000, maxMs: 6 * 60 * 60 * 1000 }, () => random)).toBe(delay);
  });
});
