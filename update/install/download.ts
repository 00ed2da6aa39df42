import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, rmSync, statfsSync, writeSync } from "node:fs";
import { join } from "node:path";
import { logger, type Logger } from "../../daemon/log.ts";
import { writeJsonAtomic } from "../../daemon/state/atomic.ts";
import { systemClock, type Clock } from "./clock.ts";
import {
  ConnectionFailed,
  DownloadIncomplete,
  HashMismatch,
  HttpStatus,
  InsufficientSpace,
  LengthExceeded,
  RemoteDataError,
} from "./errors.ts";
import { hashFileRange } from "./hash.ts";
import { ProgressTracker } from "./progress.ts";
import { DEFAULT_DOWNLOAD_LIMITS, type DownloadLimits } from "./settings.ts";
import { assertValidTarget, type UpdateTarget } from "./target.ts";
import { StallWatchdog } from "./watchdog.ts";

/** File name of the image being downloaded, inside the staging folder. */
export const PARTIAL_FILE = "image.partial";

/** File name of the sidecar that names the target of {@link PARTIAL_FILE}. */
export const PARTIAL_SIDECAR_FILE = "image.partial.json";

/** Contents of the sidecar: the target that the partial file belongs to. */
interface PartialSidecar {
  name: string;
  sha256: string;
  length: number;
}

/** Free space of a file system, as returned by `fs.statfsSync`. */
export type StatFs = (path: string) => { bavail: number; bsize: number };

export interface DownloadOptions {
  /** Folder of the partial file; must be on the same file system as the slots. */
  stagingDir: string;
  limits?: Partial<DownloadLimits>;
  clock?: Clock;
  /** Free-space probe; tests replace it to simulate a full disk. */
  statfs?: StatFs;
  progress?: ProgressTracker;
  log?: Logger;
}

/** The outcome of one HTTP request for the rest of the image. */
type RequestOutcome = "complete" | "restart";

/** Settings and collaborators of one {@link downloadTarget} call. */
interface DownloadContext {
  target: UpdateTarget;
  limits: DownloadLimits;
  clock: Clock;
  progress: ProgressTracker;
  log: Logger;
  statfs: StatFs;
  stagingDir: string;
  /** Start of the call, in milliseconds since the epoch; `deadlineMs` counts from here. */
  startedAt: number;
}

/** Open partial file with the hash of the bytes it contains. */
interface PartialState {
  fd: number;
  offset: number;
  hasher: Bun.CryptoHasher;
}

const CONTENT_RANGE = /^bytes (\d+)-(\d+)\/(\d+|\*)$/;

/**
 * Downloads `target` into `stagingDir/image.partial` and returns that path
 * once the length and SHA-256 of the whole file match the signed target.
 *
 * - Resumes a partial file of the same target with `Range: bytes=N-`.
 *   It starts over from byte 0 when the server returns 200, a wrong
 *   Content-Range or 416, or when the partial file belongs to another target.
 * - Hashes and counts bytes as they arrive. Memory stays flat because only
 *   the current chunk is held, and nothing past `length` is written.
 * - Checks free space first with `statfs`.
 *
 * On a {@link RemoteDataError} or {@link InsufficientSpace} the partial file
 * is deleted; on a transport error it is kept (fsynced) for the next call.
 * Retrying and backoff are left to the caller; see `error.retry`.
 */
export async function downloadTarget(target: UpdateTarget, options: DownloadOptions): Promise<string> {
  assertValidTarget(target);
  const limits: DownloadLimits = { ...DEFAULT_DOWNLOAD_LIMITS, ...options.limits };
  const clock = options.clock ?? systemClock;
  const context: DownloadContext = {
    target,
    limits,
    clock,
    progress: options.progress ?? new ProgressTracker(target.name, target.custom.version, target.length, clock, limits.progressIntervalMs),
    log: options.log ?? logger("update.install.download"),
    statfs: options.statfs ?? statfsSync,
    stagingDir: options.stagingDir,
    startedAt: clock.now(),
  };
  const { log, progress } = context;
  mkdirSync(options.stagingDir, { recursive: true, mode: 0o700 });

  const partialPath = join(options.stagingDir, PARTIAL_FILE);
  const offset = preparePartial(target, options.stagingDir, log);

  try {
    checkFreeSpace(options.stagingDir, target.length - offset, context.statfs);
  } catch (error) {
    discardPartial(options.stagingDir);
    log.warn({ target: target.name, err: error }, "download rejected before the first request");
    throw error;
  }

  const state: PartialState = { fd: openSync(partialPath, "r+"), offset, hasher: new Bun.CryptoHasher("sha256") };
  try {
    state.offset = hashFileRange(state.fd, offset, state.hasher);
    progress.startAttempt(state.offset);
    log.info({ target: target.name, version: target.custom.version, resumeAt: state.offset, length: target.length }, "download started");

    await fetchRemainder(context, state);
    fsyncSync(state.fd);
  } catch (error) {
    closeSync(state.fd);
    if (error instanceof RemoteDataError || error instanceof InsufficientSpace) {
      discardPartial(options.stagingDir);
    }
    log.warn({ target: target.name, bytesOnDisk: state.offset, err: error }, "download failed");
    throw error;
  }
  closeSync(state.fd);

  // TUF client workflow, fetch target: the image is used only when the
  // hash over the whole file matches. A resumed prefix was hashed from
  // disk, so the digest covers every byte of the file, not only the bytes
  // of the last request.
  progress.enter("verifying");
  const actual = state.hasher.digest("hex");
  if (actual !== target.sha256) {
    discardPartial(options.stagingDir);
    const error = new HashMismatch(target.sha256, actual, target.url);
    log.warn({ target: target.name, expected: target.sha256, actual }, "downloaded image failed verification");
    throw error;
  }

  log.info({ target: target.name, version: target.custom.version, length: target.length }, "download verified");
  return partialPath;
}

/** Deletes the partial file and its sidecar, if present. */
export function discardPartial(stagingDir: string): void {
  rmSync(join(stagingDir, PARTIAL_FILE), { force: true });
  rmSync(join(stagingDir, PARTIAL_SIDECAR_FILE), { force: true });
}

/**
 * Makes sure the partial file belongs to `target` and returns how many of
 * its bytes can be kept. A missing or foreign sidecar, or a file longer than
 * the target, starts the download over: a stale partial file would
 * otherwise make every resume fail.
 */
function preparePartial(target: UpdateTarget, stagingDir: string, log: Logger): number {
  const partialPath = join(stagingDir, PARTIAL_FILE);
  const sidecarPath = join(stagingDir, PARTIAL_SIDECAR_FILE);
  const sidecar = readSidecar(sidecarPath);
  const matches = sidecar !== null && sidecar.name === target.name && sidecar.sha256 === target.sha256 && sidecar.length === target.length;

  if (matches && existsSync(partialPath)) {
    const fd = openSync(partialPath, "r");
    const size = fstatSync(fd).size;
    closeSync(fd);
    if (size <= target.length) {
      return size;
    }
  }

  if (existsSync(partialPath)) {
    log.info({ target: target.name, previousTarget: sidecar?.name ?? null }, "partial download belongs to another target; starting over");
  }
  discardPartial(stagingDir);

  // The sidecar is written before the first byte so that a partial file
  // without a sidecar is always stale.
  const record: PartialSidecar = { name: target.name, sha256: target.sha256, length: target.length };
  writeJsonAtomic(sidecarPath, record);
  closeSync(openSync(partialPath, "w", 0o600));
  return 0;
}

function readSidecar(path: string): PartialSidecar | null {
  try {
    const value: unknown = JSON.parse(readFileSync(path, "utf8"));
    if (typeof value !== "object" || value === null) {
      return null;
    }
    const record = value as Record<string, unknown>;
    if (typeof record.name !== "string" || typeof record.sha256 !== "string" || typeof record.length !== "number") {
      return null;
    }
    return { name: record.name, sha256: record.sha256, length: record.length };
  } catch {
    return null;
  }
}

function checkFreeSpace(path: string, needed: number, statfs: StatFs): void {
  const stats = statfs(path);
  const available = Number(stats.bavail) * Number(stats.bsize);
  if (needed > available) {
    throw new InsufficientSpace(needed, available, path);
  }
}

/**
 * Requests the missing bytes. A `restart` outcome only follows a Range
 * request, and the retry after it starts at byte 0 without Range, so the
 * loop sends at most two requests.
 */
async function fetchRemainder(context: DownloadContext, state: PartialState): Promise<void> {
  while (state.offset < context.target.length) {
    const outcome = await requestRemainder(context, state);
    if (outcome === "complete") {
      return;
    }

    resetPartial(state);
    context.progress.startAttempt(0);
  }
}

function resetPartial(state: PartialState): void {
  ftruncateSync(state.fd, 0);
  state.offset = 0;
  state.hasher = new Bun.CryptoHasher("sha256");
}

/**
 * Sends one request for the bytes from `state.offset` on and streams the
 * body into the partial file. Returns `restart` when the response to a Range
 * request cannot be appended to the partial file.
 */
async function requestRemainder(context: DownloadContext, state: PartialState): Promise<RequestOutcome> {
  const { target } = context;
  const controller = new AbortController();
  const watchdog = new StallWatchdog(context.limits, context.clock, target.url, (error) => controller.abort(error));
  const headers: Record<string, string> = { "accept-encoding": "identity" };
  if (state.offset > 0) {
    headers.range = `bytes=${state.offset}-`;
  }

  watchdog.start(context.startedAt);
  try {
    let response: Response;
    try {
      response = await fetch(target.url, { headers, signal: controller.signal });
    } catch (error) {
      throw watchdog.error ?? new ConnectionFailed(target.url, { cause: error });
    }

    const accepted = acceptResponse(response, target, state, context.log);
    if (accepted === "restart") {
      await response.body?.cancel().catch(() => {});
      return "restart";
    }

    await streamBody(response, context, state, watchdog);
    return "complete";
  } finally {
    watchdog.stop();
  }
}

/**
 * Checks status, Content-Range and Content-Length before any byte is
 * written. A 200 response to a Range request truncates the partial file,
 * and its body is then read from byte 0.
 */
function acceptResponse(response: Response, target: UpdateTarget, state: PartialState, log: Logger): "stream" | "restart" {
  const resuming = state.offset > 0;

  if (response.status === 416 && resuming) {
    log.info({ target: target.name, offset: state.offset }, "server rejected the Range request (416); starting over");
    return "restart";
  }

  if (response.status === 206 && resuming) {
    const range = CONTENT_RANGE.exec(response.headers.get("content-range") ?? "");
    const start = range === null ? NaN : Number(range[1]);
    const end = range === null ? NaN : Number(range[2]);
    const total = range === null || range[3] === "*" ? target.length : Number(range[3]);
    if (start !== state.offset || total !== target.length || end >= target.length) {
      log.info(
        { target: target.name, offset: state.offset, contentRange: response.headers.get("content-range") },
        "Content-Range does not continue the partial file; starting over",
      );
      return "restart";
    }
  } else if (response.status === 200) {
    if (resuming) {
      log.info({ target: target.name, offset: state.offset }, "server ignored the Range request (200); starting over");
      resetPartial(state);
    }
  } else {
    throw new HttpStatus(response.status, target.url);
  }

  const declared = response.headers.get("content-length");
  if (declared !== null && state.offset + Number(declared) > target.length) {
    throw new LengthExceeded(target.length, state.offset + Number(declared), target.url);
  }
  return "stream";
}

/** Hashes and writes each chunk as it arrives; writes nothing past the signed length. */
async function streamBody(response: Response, context: DownloadContext, state: PartialState, watchdog: StallWatchdog): Promise<void> {
  const { target } = context;
  if (response.body === null) {
    throw new DownloadIncomplete(state.offset, target.length, target.url);
  }
  const reader = response.body.getReader();

  try {
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (error) {
        throw watchdog.error ?? new DownloadIncomplete(state.offset, target.length, target.url, { cause: error });
      }
      if (chunk.done) {
        break;
      }

      const bytes = chunk.value;
      watchdog.received(bytes.length);
      if (watchdog.error !== null) {
        throw watchdog.error;
      }

      // TUF client workflow, fetch target: download at most the signed
      // length, which stops the endless-data attack.
      if (state.offset + bytes.length > target.length) {
        throw new LengthExceeded(target.length, state.offset + bytes.length, target.url);
      }

      writeChunk(context, state, bytes);
      state.hasher.update(bytes);
      state.offset += bytes.length;
      context.progress.update(state.offset);
    }
  } finally {
    reader.releaseLock();
  }

  if (state.offset < target.length) {
    throw new DownloadIncomplete(state.offset, target.length, target.url);
  }
}

// NOTE: the ENOSPC branch is not covered by a test, because a full file
// system cannot be made without privileges; the statfs preflight is.
function writeChunk(context: DownloadContext, state: PartialState, bytes: Uint8Array): void {
  let written = 0;
  try {
    while (written < bytes.length) {
      written += writeSync(state.fd, bytes, written, bytes.length - written, state.offset + written);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOSPC") {
      const stats = context.statfs(context.stagingDir);
      throw new InsufficientSpace(context.target.length - state.offset, Number(stats.bavail) * Number(stats.bsize), context.stagingDir);
    }
    throw error;
  }
}
