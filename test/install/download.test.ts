import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setLogLevel } from "../../daemon/log.ts";
import {
  DownloadIncomplete,
  DownloadStalled,
  HashMismatch,
  HttpStatus,
  InsufficientSpace,
  InvalidTarget,
  LengthExceeded,
} from "../../update/install/errors.ts";
import { downloadTarget, PARTIAL_FILE, PARTIAL_SIDECAR_FILE } from "../../update/install/download.ts";
import { ProgressTracker, type InstallProgress } from "../../update/install/progress.ts";
import { systemClock } from "../../update/install/clock.ts";
import { ImageServer, makeImage, makeTempDir, ManualClock, sha256Hex, targetFor, type Behaviour } from "./helpers.ts";

const MiB = 1024 * 1024;
const IMAGE = makeImage(2 * MiB + 123, 1);
const OTHER_IMAGE = makeImage(IMAGE.length, 2);

beforeAll(() => setLogLevel("silent"));

function partialPath(dir: string): string {
  return join(dir, PARTIAL_FILE);
}

function sidecarPath(dir: string): string {
  return join(dir, PARTIAL_SIDECAR_FILE);
}

describe("downloadTarget", () => {
  test("downloads and verifies a whole image", async () => {
    using dir = makeTempDir("dl");
    using server = new ImageServer(IMAGE, [{ kind: "serve" }]);
    const phases: string[] = [];
    const progress = new ProgressTracker("boxd.img", "2.0.0", IMAGE.length, systemClock, 0, (p) => phases.push(p.phase));

    const path = await downloadTarget(targetFor(IMAGE, server.url, "2.0.0"), { stagingDir: dir.path, progress });

    expect(path).toBe(partialPath(dir.path));
    expect(sha256Hex(readFileSync(path))).toBe(sha256Hex(IMAGE));
    expect(server.requests).toEqual([{ range: null, behaviour: "serve" }]);
    expect(phases[0]).toBe("downloading");
    expect(phases.at(-1)).toBe("verifying");
    expect(progress.latest.bytesDone).toBe(IMAGE.length);
  });

  // The server closes at 70 %, so the partial file is never complete. The
  // next call resumes it, and the hash still covers the whole file.
  test("resumes with Range after a drop at 70%", async () => {
    using dir = makeTempDir("dl");
    using server = new ImageServer(IMAGE, [{ kind: "drop", fraction: 0.7 }, { kind: "serve" }]);
    const target = targetFor(IMAGE, server.url, "2.0.0");
    const keptBytes = Math.floor(IMAGE.length * 0.7);

    const first = await downloadTarget(target, { stagingDir: dir.path }).catch((error: unknown) => error);
    expect(first).toBeInstanceOf(DownloadIncomplete);
    expect(first).toMatchObject({ received: keptBytes, expected: IMAGE.length, retry: "resume" });
    expect(statSync(partialPath(dir.path)).size).toBe(keptBytes);

    const path = await downloadTarget(target, { stagingDir: dir.path });

    expect(server.requests.map((request) => request.range)).toEqual([null, `bytes=${keptBytes}-`]);
    expect(sha256Hex(readFileSync(path))).toBe(target.sha256);
  });

  // A server that ignores Range returns 200, so the client truncates the
  // partial file and reads the whole body from byte 0 in the same request.
  test("restarts from zero when a Range request gets 200", async () => {
    using dir = makeTempDir("dl");
    using server = new ImageServer(IMAGE, [{ kind: "drop", fraction: 0.6 }, { kind: "ignore-range" }]);
    const target = targetFor(IMAGE, server.url, "2.0.0");
    await downloadTarget(target, { stagingDir: dir.path }).catch(() => {});

    const path = await downloadTarget(target, { stagingDir: dir.path });

    expect(server.requests).toHaveLength(2);
    expect(server.requests[1]!.range).toBe(`bytes=${Math.floor(IMAGE.length * 0.6)}-`);
    expect(statSync(path).size).toBe(IMAGE.length);
    expect(sha256Hex(readFileSync(path))).toBe(target.sha256);
  });

  test.each([
    ["a wrong Content-Range start", { kind: "wrong-content-range", shift: 1000 } as Behaviour],
    ["a 416 answer", { kind: "status", status: 416 } as Behaviour],
  ])("restarts from zero after %s", async (_name, behaviour) => {
    using dir = makeTempDir("dl");
    using server = new ImageServer(IMAGE, [{ kind: "drop", fraction: 0.5 }, behaviour, { kind: "serve" }]);
    const target = targetFor(IMAGE, server.url, "2.0.0");
    await downloadTarget(target, { stagingDir: dir.path }).catch(() => {});

    const path = await downloadTarget(target, { stagingDir: dir.path });

    expect(server.requests.map((request) => request.range)).toEqual([null, `bytes=${Math.floor(IMAGE.length * 0.5)}-`, null]);
    expect(sha256Hex(readFileSync(path))).toBe(target.sha256);
  });

  test("starts over when the partial belongs to another target", async () => {
    using dir = makeTempDir("dl");
    using server = new ImageServer(IMAGE, [{ kind: "serve" }]);
    writeFileSync(partialPath(dir.path), OTHER_IMAGE.subarray(0, 1000));
    writeFileSync(sidecarPath(dir.path), JSON.stringify({ name: "old.img", sha256: sha256Hex(OTHER_IMAGE), length: OTHER_IMAGE.length }));

    const path = await downloadTarget(targetFor(IMAGE, server.url, "2.0.0"), { stagingDir: dir.path });

    expect(server.requests[0]!.range).toBeNull();
    expect(sha256Hex(readFileSync(path))).toBe(sha256Hex(IMAGE));
  });

  test("starts over when the partial is too long", async () => {
    using dir = makeTempDir("dl");
    using server = new ImageServer(IMAGE, [{ kind: "serve" }]);
    const target = targetFor(IMAGE, server.url, "2.0.0");
    writeFileSync(partialPath(dir.path), new Uint8Array(IMAGE.length + 1));
    writeFileSync(sidecarPath(dir.path), JSON.stringify({ name: target.name, sha256: target.sha256, length: target.length }));

    const path = await downloadTarget(target, { stagingDir: dir.path });

    expect(server.requests[0]!.range).toBeNull();
    expect(sha256Hex(readFileSync(path))).toBe(target.sha256);
  });

  test("starts over when the partial has no sidecar", async () => {
    using dir = makeTempDir("dl");
    using server = new ImageServer(IMAGE, [{ kind: "serve" }]);
    writeFileSync(partialPath(dir.path), IMAGE.subarray(0, 1000));

    await downloadTarget(targetFor(IMAGE, server.url, "2.0.0"), { stagingDir: dir.path });

    expect(server.requests[0]!.range).toBeNull();
  });

  // The final hash covers the kept prefix too: a prefix damaged on disk
  // fails verification even though every byte of the last request was right.
  test("hashes the resumed prefix from disk", async () => {
    using dir = makeTempDir("dl");
    using server = new ImageServer(IMAGE, [{ kind: "drop", fraction: 0.5 }, { kind: "serve" }]);
    const target = targetFor(IMAGE, server.url, "2.0.0");
    await downloadTarget(target, { stagingDir: dir.path }).catch(() => {});
    const damaged = readFileSync(partialPath(dir.path));
    damaged[10] = damaged[10]! ^ 0xff;
    writeFileSync(partialPath(dir.path), damaged);

    const error = await downloadTarget(target, { stagingDir: dir.path }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(HashMismatch);
    expect(error).toMatchObject({ expected: target.sha256, retry: "restart" });
    expect(server.requests[1]!.range).toBe(`bytes=${Math.floor(IMAGE.length * 0.5)}-`);
    expect(existsSync(partialPath(dir.path))).toBe(false);
  });

  test("uses a complete partial without a request", async () => {
    using dir = makeTempDir("dl");
    using server = new ImageServer(IMAGE, [{ kind: "serve" }]);
    const target = targetFor(IMAGE, server.url, "2.0.0");
    writeFileSync(partialPath(dir.path), IMAGE);
    writeFileSync(sidecarPath(dir.path), JSON.stringify({ name: target.name, sha256: target.sha256, length: target.length }));

    await downloadTarget(target, { stagingDir: dir.path });

    expect(server.requests).toHaveLength(0);
  });

  interface FailureCase {
    name: string;
    behaviours: Behaviour[];
    freeBytes?: number;
    errorClass: new (...args: never[]) => Error;
    fields: (url: string) => Record<string, unknown>;
    /** Size of the partial file afterwards, or null when it must be gone. */
    partialSize: number | null;
  }

  const failures: FailureCase[] = [
    {
      // L + 1 MiB with Content-Length is rejected before any byte is written.
      name: "L+1 MiB with Content-Length",
      behaviours: [{ kind: "extra", bytes: MiB, declare: true }],
      errorClass: LengthExceeded,
      fields: (url) => ({ limit: IMAGE.length, received: IMAGE.length + MiB, url, fault: "remote" }),
      partialSize: null,
    },
    {
      name: "wrong image of the right length",
      behaviours: [{ kind: "other-image", image: OTHER_IMAGE }],
      errorClass: HashMismatch,
      fields: (url) => ({ expected: sha256Hex(IMAGE), actual: sha256Hex(OTHER_IMAGE), url, fault: "remote" }),
      partialSize: null,
    },
    {
      name: "HTTP 404",
      behaviours: [{ kind: "status", status: 404 }],
      errorClass: HttpStatus,
      fields: (url) => ({ status: 404, url, fault: "transport", retry: "resume" }),
      partialSize: 0,
    },
    {
      name: "206 to a request without Range",
      behaviours: [{ kind: "wrong-content-range", shift: 0 }],
      errorClass: HttpStatus,
      fields: (url) => ({ status: 206, url }),
      partialSize: 0,
    },
    {
      name: "connection reset at 70%",
      behaviours: [{ kind: "reset", fraction: 0.7 }],
      errorClass: DownloadIncomplete,
      fields: (url) => ({ expected: IMAGE.length, url, fault: "transport" }),
      partialSize: -1,
    },
    {
      // The free-space check rejects before any request, and nothing stays on disk.
      name: "too little free space",
      behaviours: [{ kind: "serve" }],
      freeBytes: 100 * 1024,
      errorClass: InsufficientSpace,
      fields: () => ({ needed: IMAGE.length, available: 100 * 1024, fault: "local", retry: "after-space-freed" }),
      partialSize: null,
    },
  ];

  test.each(failures)("rejects $name", async (entry) => {
    using dir = makeTempDir("dl");
    using server = new ImageServer(IMAGE, entry.behaviours);
    const statfs = entry.freeBytes === undefined ? undefined : () => ({ bavail: entry.freeBytes! / 1024, bsize: 1024 });

    const error = await downloadTarget(targetFor(IMAGE, server.url, "2.0.0"), { stagingDir: dir.path, statfs }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(entry.errorClass);
    expect(error).toMatchObject(entry.fields(server.url));
    if (entry.partialSize === null) {
      expect(existsSync(partialPath(dir.path))).toBe(false);
      expect(existsSync(sidecarPath(dir.path))).toBe(false);
    } else {
      expect(existsSync(sidecarPath(dir.path))).toBe(true);
      const size = statSync(partialPath(dir.path)).size;
      expect(size).toBe(entry.partialSize === -1 ? (error as DownloadIncomplete).received : entry.partialSize);
    }
    if (entry.freeBytes !== undefined) {
      expect(server.requests).toHaveLength(0);
    }
  });

  // Without Content-Length, the chunk that crosses the signed length is not
  // written, so the partial file never grows past L bytes.
  test("stops an endless stream at the signed length", async () => {
    using dir = makeTempDir("dl");
    using server = new ImageServer(IMAGE, [{ kind: "extra", bytes: MiB, declare: false }]);

    const error = await downloadTarget(targetFor(IMAGE, server.url, "2.0.0"), { stagingDir: dir.path }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(LengthExceeded);
    expect((error as LengthExceeded).limit).toBe(IMAGE.length);
    expect((error as LengthExceeded).received).toBeGreaterThan(IMAGE.length);
    expect((error as LengthExceeded).received).toBeLessThanOrEqual(IMAGE.length + MiB);
    expect(existsSync(partialPath(dir.path))).toBe(false);
  });

  test.each([
    ["length", { length: -1 }],
    ["sha256", { sha256: "ABC" }],
    ["url", { url: "ftp://127.0.0.1/x" }],
    ["custom.version", { custom: { version: "" } }],
  ])("rejects a target with a bad %s", async (field, change) => {
    using dir = makeTempDir("dl");
    const target = { ...targetFor(IMAGE, "http://127.0.0.1:1/x", "2.0.0"), ...change };

    const error = await downloadTarget(target, { stagingDir: dir.path }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(InvalidTarget);
    expect(error).toMatchObject({ field, fault: "caller" });
  });
});

// A server that drips bytes or goes silent is cut off by a named limit.
// Time comes from a manual clock, so nothing sleeps.
describe("downloadTarget limits", () => {
  const quiet = { deadlineMs: 1e9, idleTimeoutMs: 1e9, minBytesPerSecond: 0, throughputWindowMs: 10_000, checkIntervalMs: 1000, progressIntervalMs: 0 };

  test("cuts off a drip below the minimum rate", async () => {
    using dir = makeTempDir("dl");
    using server = new ImageServer(IMAGE, [{ kind: "drip" }]);
    const clock = new ManualClock();
    let seen: (progress: InstallProgress) => void = () => {};
    const progress = new ProgressTracker("boxd.img", "2.0.0", IMAGE.length, clock, 0, (p) => seen(p));
    const limits = { ...quiet, minBytesPerSecond: 1000 };

    const download = downloadTarget(targetFor(IMAGE, server.url, "2.0.0"), { stagingDir: dir.path, limits, clock, progress }).catch((caught: unknown) => caught);
    await server.waitForRequests(1);
    for (let byte = 1; byte <= 5; byte++) {
      const arrived = new Promise<void>((resolve) => (seen = (p) => p.bytesDone === byte && resolve()));
      server.releaseByte();
      await arrived;
      clock.advance(2000);
    }
    const error = await download;

    expect(error).toBeInstanceOf(DownloadStalled);
    expect(error).toMatchObject({ reason: "throughput", limitName: "minBytesPerSecond", limitValue: 1000, bytesReceived: 5, elapsedMs: 10_000 });
    expect(statSync(partialPath(dir.path)).size).toBe(5);
    expect(clock.timerCount).toBe(0);
  });

  test.each([
    ["idle", { idleTimeoutMs: 5000 }, 6000, "idleTimeoutMs", 5000],
    ["deadline", { deadlineMs: 3000 }, 4000, "deadlineMs", 3000],
  ])("cuts off a silent server by %s", async (reason, change, advanceMs, limitName, limitValue) => {
    using dir = makeTempDir("dl");
    using server = new ImageServer(IMAGE, [{ kind: "drip" }]);
    const clock = new ManualClock();

    const download = downloadTarget(targetFor(IMAGE, server.url, "2.0.0"), { stagingDir: dir.path, limits: { ...quiet, ...change }, clock }).catch(
      (caught: unknown) => caught,
    );
    await server.waitForRequests(1);
    clock.advance(advanceMs);
    const error = await download;

    expect(error).toBeInstanceOf(DownloadStalled);
    expect(error).toMatchObject({ reason, limitName, limitValue, bytesReceived: 0, elapsedMs: advanceMs, retry: "resume" });
    expect(existsSync(sidecarPath(dir.path))).toBe(true);
    expect(clock.timerCount).toBe(0);
  });
});
