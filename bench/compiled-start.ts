/**
 * Start-up benchmark: the time from spawning boxd to its first DUIS
 * Response. It measures the compiled binary (`dist/boxd`, built first by
 * `bench/build.ts`) and `bun daemon/main.ts` in the same run. Each starts on
 * a fresh state folder (device credentials minted) and on a warm one (loaded).
 *
 * Each start gets a free loopback port chosen beforehand, so the poll needs
 * no log line: it POSTs one signed 8.2 Read Inventory (signature validation
 * on) every POLL_INTERVAL_MS until the daemon responds, and accepts any DUIS
 * Response. The boot step lines of each start's log give the split.
 * Prints a Markdown section for docs/benchmarks.md.
 *
 * Usage: bun bench/compiled-start.ts [--starts N]
 */
import { createPrivateKey } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Subprocess } from "bun";
import { NS } from "../daemon/duis/constants.ts";
import { signCanonicalDocument } from "../daemon/duis/signature.ts";
import { buildBinary } from "./build.ts";

const ROOT = resolve(import.meta.dir, "..");
const ZAZ1 = join(ROOT, "provisioning", "trust", "zaz1");

/** Pause between two polls of a daemon that does not listen yet, in milliseconds. */
const POLL_INTERVAL_MS = 1;

/** Maximum wait for a first DUIS Response before a start counts as failed, in milliseconds. */
export const START_TIMEOUT_MS = 30_000;

/** The DUIS user the requests are signed as: the ZAZ1 supplier of DCC Boxed, with its XML-signing key. */
const USER = { eui: "90-B3-D5-1F-30-01-00-00", key: "xml-sign-90B3D51F30010000-ds", serial: "27572613927499351639968579586655397031" };

/** A command that starts boxd: the compiled binary or bun with the source entry point. */
export type DaemonCommand = readonly string[];

/** The compiled binary that `npm run build` writes. */
export const COMPILED_BINARY = join(ROOT, "dist", "boxd");

/** `bun daemon/main.ts`, run by the bun that runs this script. */
export const SOURCE_COMMAND: DaemonCommand = [process.execPath, join(ROOT, "daemon", "main.ts")];

/** Returns a signed DUIS 8.2 Read Inventory of a device, as a DCC Boxed client sends it. */
export function signedReadInventory(counter: bigint, deviceId = "00-DB-12-34-56-78-90-A2"): string {
  const privateKey = createPrivateKey({ key: readFileSync(join(ZAZ1, `${USER.key}.key`)), format: "der", type: "pkcs8" });
  const canonical =
    `<sr:Request xmlns:sr="${NS.sr}" schemaVersion="5.4"><sr:Header>` +
    `<sr:RequestID>${USER.eui}:90-B3-D5-1F-30-00-00-02:${counter}</sr:RequestID><sr:CommandVariant>8</sr:CommandVariant>` +
    `<sr:ServiceReference>8.2</sr:ServiceReference><sr:ServiceReferenceVariant>8.2</sr:ServiceReferenceVariant></sr:Header>` +
    `<sr:Body><sr:ReadInventory><sr:DeviceID>${deviceId}</sr:DeviceID></sr:ReadInventory></sr:Body></sr:Request>`;
  return signCanonicalDocument(canonical, { privateKey, issuerName: "CN=Z1,OU=07", serial: USER.serial });
}

/** Returns the DUIS ResponseCode of a DUIS Response, or undefined when `text` is not a DUIS Response. */
export function responseCode(text: string): string | undefined {
  return /<sr:ResponseCode>([^<]+)<\/sr:ResponseCode>/.exec(text)?.[1];
}

/** POSTs a DUIS request to `/api/v1/serviceD` and returns the response body. */
export async function postDuis(port: number, body: string): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/api/v1/serviceD`, {
    method: "POST",
    headers: { "Content-Type": "application/xml" },
    body,
  });
  return response.text();
}

/** Returns a loopback TCP port that was free a moment ago. */
export function freePort(): number {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

/** Reads VmRSS and VmHWM of a process from /proc/PID/status, in kibibytes. */
export function memoryOf(pid: number): { rssKiB: number; peakKiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
  return { rssKiB: field("VmRSS"), peakKiB: field("VmHWM") };
}

/** A boxd child process with its ports and the log lines it has written so far. */
export interface DaemonProcess {
  process: Subprocess<"ignore", "pipe", "inherit">;
  duisPort: number;
  /** Parsed pino lines of stdout; grows while the daemon runs. */
  logLines: Record<string, unknown>[];
  /** Settles when stdout closes, so every log line has been read. */
  logClosed: Promise<void>;
  /** Resolves with the "boxd ready" line; rejects when stdout closes without one. */
  ready: Promise<Record<string, unknown>>;
}

/**
 * Spawns boxd on loopback with its state in `stateDirectory`. The DUIS port
 * is chosen here, so a caller can poll it before the daemon logs anything.
 */
export function spawnDaemon(command: DaemonCommand, stateDirectory: string, extraEnvironment: Record<string, string> = {}): DaemonProcess {
  const duisPort = freePort();
  const child = Bun.spawn([...command], {
    cwd: stateDirectory,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? stateDirectory,
      BOXD_STATE_DIRECTORY: join(stateDirectory, "state"),
      BOXD_DUIS_HOST: "127.0.0.1",
      BOXD_DUIS_PORT: String(duisPort),
      BOXD_SMKI_HOST: "127.0.0.1",
      BOXD_SMKI_PORT: "0",
      BOXD_ADMIN_HOST: "127.0.0.1",
      BOXD_ADMIN_PORT: "0",
      ...extraEnvironment,
    },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "inherit",
  });

  const logLines: Record<string, unknown>[] = [];
  const ready = Promise.withResolvers<Record<string, unknown>>();
  const logClosed = (async () => {
    const decoder = new TextDecoder();
    let pending = "";
    for await (const chunk of child.stdout) {
      pending += decoder.decode(chunk, { stream: true });
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        if (!line.startsWith("{")) continue;
        const parsed = JSON.parse(line) as Record<string, unknown>;
        logLines.push(parsed);
        if (parsed.msg === "boxd ready") ready.resolve(parsed);
      }
    }
    ready.reject(new Error(`boxd closed its stdout before it logged "boxd ready" (exit code ${await child.exited})`));
  })();
  // A caller that never awaits `ready` must not see an unhandled rejection.
  ready.promise.catch(() => undefined);

  return { process: child, duisPort, logLines, logClosed, ready: ready.promise };
}

/**
 * POSTs `body` until the daemon returns a DUIS Response, and returns it with
 * the milliseconds since `spawnedAt`. Raises when the daemon exits first or
 * START_TIMEOUT_MS passes.
 */
export async function firstResponse(daemon: DaemonProcess, body: string, spawnedAt: number): Promise<{ ms: number; text: string }> {
  const deadline = spawnedAt + START_TIMEOUT_MS;
  for (;;) {
    if (daemon.process.exitCode !== null) {
      await daemon.logClosed;
      const fatal = daemon.logLines.filter((line) => Number(line.level) >= 50).pop();
      throw new Error(`boxd exited with code ${daemon.process.exitCode} before it returned a DUIS Response; last error: ${JSON.stringify(fatal ?? null)}`);
    }
    if (performance.now() > deadline) {
      throw new Error(`boxd returned no DUIS Response on port ${daemon.duisPort} within ${START_TIMEOUT_MS} ms`);
    }

    try {
      const text = await postDuis(daemon.duisPort, body);
      const ms = performance.now() - spawnedAt;
      if (responseCode(text) === undefined) throw new Error(`port ${daemon.duisPort} returned a body that is not a DUIS Response: ${text.slice(0, 200)}`);
      return { ms, text };
    } catch (error) {
      // Connection refused means not listening yet; anything else is a real failure.
      if ((error as { code?: string }).code !== "ECONNREFUSED") throw error;
    }
    await Bun.sleep(POLL_INTERVAL_MS);
  }
}

/** Stops a daemon with SIGTERM and waits until it has exited and its log is read. */
export async function stopDaemon(daemon: DaemonProcess): Promise<void> {
  daemon.process.kill("SIGTERM");
  await daemon.process.exited;
  await daemon.logClosed;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function median(values: number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

/** The figures of one start. */
interface StartSample {
  ms: number;
  readyMs: number;
  rssKiB: number;
  steps: Map<string, number>;
}

/** Starts boxd once, waits for its first DUIS Response and stops it. */
async function measureStart(command: DaemonCommand, folder: string, counter: bigint): Promise<StartSample> {
  const body = signedReadInventory(counter);
  const spawnedAt = performance.now();
  const daemon = spawnDaemon(command, folder);
  let ms: number;
  let rssKiB: number;
  try {
    ({ ms } = await firstResponse(daemon, body, spawnedAt));
    ({ rssKiB } = memoryOf(daemon.process.pid));
  } finally {
    await stopDaemon(daemon);
  }

  const steps = new Map<string, number>();
  let readyMs = Number.NaN;
  for (const line of daemon.logLines) {
    if (line.msg === "boot step done") steps.set(String(line.step), Number(line.ms));
    if (line.msg === "boxd ready") readyMs = Number(line.ms);
  }
  return { ms, readyMs, rssKiB, steps };
}

/** The runs of one command and one state kind. */
interface Series {
  label: string;
  command: DaemonCommand;
  warm: boolean;
  samples: StartSample[];
}

/**
 * Runs `starts` rounds of one start per series, interleaved, so that load
 * from other processes on the machine spreads evenly over the series.
 */
async function measureRounds(allSeries: Series[], starts: number, counterBase: bigint): Promise<void> {
  const warmFolders = allSeries.map((series) => (series.warm ? mkdtempSync(join(tmpdir(), "boxd-bench-start-")) : undefined));
  try {
    // A warm folder has been started once, so its device credentials exist.
    for (const [index, series] of allSeries.entries()) {
      const folder = warmFolders[index];
      if (folder !== undefined) await measureStart(series.command, folder, counterBase);
    }

    for (let round = 0; round < starts; round++) {
      for (const [index, series] of allSeries.entries()) {
        const folder = warmFolders[index] ?? mkdtempSync(join(tmpdir(), "boxd-bench-start-"));
        try {
          series.samples.push(await measureStart(series.command, folder, counterBase + BigInt(round + 1)));
        } finally {
          if (warmFolders[index] === undefined) rmSync(folder, { recursive: true, force: true });
        }
      }
    }
  } finally {
    for (const folder of warmFolders) if (folder !== undefined) rmSync(folder, { recursive: true, force: true });
  }
}

function seriesRow(series: Series): string {
  const sorted = series.samples.map((sample) => sample.ms).sort((a, b) => a - b);
  const ready = median(series.samples.map((sample) => sample.readyMs));
  const rss = median(series.samples.map((sample) => sample.rssKiB)) / 1024;
  const cells = [percentile(sorted, 50), percentile(sorted, 90), sorted[sorted.length - 1]!].map((ms) => ms.toFixed(1));
  return `| ${series.label} | ${cells.join(" | ")} | ${ready.toFixed(1)} | ${rss.toFixed(1)} MiB |`;
}

function stepTable(allSeries: Series[]): string[] {
  const names = [...allSeries[0]!.samples[0]!.steps.keys()];
  const lines = [`| boot step (median ms) | ${allSeries.map((series) => series.label).join(" | ")} |`, `|---|${allSeries.map(() => "---:").join("|")}|`];
  for (const name of names) {
    const cells = allSeries.map((series) => median(series.samples.map((sample) => sample.steps.get(name) ?? Number.NaN)).toFixed(1));
    lines.push(`| ${name} | ${cells.join(" | ")} |`);
  }
  return lines;
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { starts: { type: "string", default: "20" } } });
  const starts = Number(values.starts);
  if (!Number.isInteger(starts) || starts < 1) throw new Error(`--starts ${values.starts} is not a positive integer; pass e.g. --starts 20`);

  const binarySize = await buildBinary(COMPILED_BINARY);
  const counterBase = BigInt(Date.now()) * 1000n;
  const compiled: DaemonCommand = [COMPILED_BINARY];
  const allSeries: Series[] = [
    { label: "`dist/boxd`, fresh state", command: compiled, warm: false, samples: [] },
    { label: "`bun daemon/main.ts`, fresh state", command: SOURCE_COMMAND, warm: false, samples: [] },
    { label: "`dist/boxd`, warm state", command: compiled, warm: true, samples: [] },
    { label: "`bun daemon/main.ts`, warm state", command: SOURCE_COMMAND, warm: true, samples: [] },
  ];
  await measureRounds(allSeries, starts, counterBase);

  const lines = [
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? "unknown CPU"}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Bun ${Bun.version}.`,
    `Command: \`bun bench/compiled-start.ts --starts ${starts}\` (${new Date().toISOString().slice(0, 10)}); \`dist/boxd\` is ${binarySize} bytes.`,
    "",
    `| how started (${starts} starts each, interleaved) | p50 ms | p90 ms | max ms | daemon's own "boxd ready" ms, median | VmRSS at first answer, median |`,
    "|---|---:|---:|---:|---:|---:|",
    ...allSeries.map(seriesRow),
    "",
    ...stepTable(allSeries),
  ];
  console.log(lines.join("\n"));
}
