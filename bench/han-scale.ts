/**
 * Scale benchmark: boxd with 10,000 emulated devices, against the 7-device
 * default HAN in the same run. It seeds `<state>/han/devices.json` before
 * the first start: the default HAN's premises, then generated premises of 7
 * devices each with deterministic EUIs. Three starts follow on that state:
 * a first start with `bun daemon/main.ts` (it mints two certificates per
 * device), a warm restart with `bun daemon/main.ts` and a warm start of
 * `dist/boxd`. After each start it sends signed 8.2 Read Inventory requests
 * and reads VmRSS and VmHWM from /proc/PID/status, then VmRSS again after
 * the daemon has idled. Prints a Markdown section for docs/benchmarks.md.
 *
 * Usage: bun bench/han-scale.ts [--devices N] [--requests R] [--idle-seconds S]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { formatEui, parseEui } from "../daemon/duis/eui.ts";
import { defaultHan, type DeviceRecord, type DeviceType } from "../daemon/emulator/han.ts";
import { writeJsonAtomic } from "../daemon/state/atomic.ts";
import { buildBinary } from "./build.ts";
import {
  COMPILED_BINARY,
  SOURCE_COMMAND,
  memoryOf,
  postDuis,
  responseCode,
  signedReadInventory,
  spawnDaemon,
  stopDaemon,
  type DaemonCommand,
} from "./compiled-start.ts";

/** Devices of one generated premises, in the order of the default HAN. */
const PREMISES_LAYOUT: ReadonlyArray<{ deviceType: DeviceType; role?: string }> = [
  { deviceType: "ESME" },
  { deviceType: "GSME" },
  { deviceType: "CHF" },
  { deviceType: "GPF" },
  { deviceType: "PPMID" },
  { deviceType: "HCALCS" },
  { deviceType: "HCALCS", role: "APC" },
];

/**
 * Returns the EUI of device `slot` at generated premises `premises`: `0A B0`,
 * the premises number in 8 hex digits, then the slot in 4. No ZAZ1 or RTDS
 * EUI starts with 0AB0.
 */
export function generatedEui(premises: number, slot: number): string {
  return `0AB0${premises.toString(16).padStart(8, "0")}${slot.toString(16).padStart(4, "0")}`.toUpperCase();
}

/** Returns `count` devices: the default HAN first, then generated premises of 7. */
export function scaledHan(count: number): DeviceRecord[] {
  const template = defaultHan();
  const devices = template.slice(0, count);

  for (let premises = 1; devices.length < count; premises++) {
    for (let slot = 0; slot < PREMISES_LAYOUT.length && devices.length < count; slot++) {
      const layout = PREMISES_LAYOUT[slot]!;
      const base = template[slot]!;
      const device: DeviceRecord = {
        ...base,
        eui: parseEui(generatedEui(premises, slot)),
        deviceType: layout.deviceType,
        uprn: String(100_000_000_000 + premises),
        addressIdentifier: String(premises),
      };
      if (layout.role === undefined) delete device.role;
      else device.role = layout.role;
      if (base.importMpxn !== undefined) device.importMpxn = String(1_200_000_000_000 + premises * 10 + slot);
      devices.push(device);
    }
  }
  return devices;
}

/** The figures of one start. */
interface ScaleSample {
  label: string;
  readyMs: number;
  credentialsMs: number;
  answered: number;
  rssKiB: number;
  peakKiB: number;
  /** VmRSS after the daemon has idled for `idleSeconds`. */
  idleRssKiB: number;
}

/** Starts boxd on `folder`, waits for "boxd ready", sends `requests` 8.2 requests, reads its memory and stops it. */
async function measure(
  label: string,
  command: DaemonCommand,
  folder: string,
  devices: DeviceRecord[],
  requests: number,
  idleSeconds: number,
  counterBase: bigint,
): Promise<ScaleSample> {
  const daemon = spawnDaemon(command, folder);
  try {
    const ready = await daemon.ready;

    // Spread the requests over the inventory: the first device, then equal steps.
    let answered = 0;
    for (let i = 0; i < requests; i++) {
      const device = devices[Math.floor((i * devices.length) / requests)]!;
      const text = await postDuis(daemon.duisPort, signedReadInventory(counterBase + BigInt(i), formatEui(device.eui)));
      const code = responseCode(text);
      if (code !== "I0") throw new Error(`8.2 for ${device.eui} returned response code ${code ?? "none"}, expected I0: ${text.slice(0, 300)}`);
      answered++;
    }

    const memory = memoryOf(daemon.process.pid);
    // A second reading after idling shows how much garbage the collector frees without load.
    await Bun.sleep(idleSeconds * 1000);
    const idle = memoryOf(daemon.process.pid);
    const credentials = daemon.logLines.find((line) => line.msg === "boot step done" && line.step === "device credentials");
    return { label, readyMs: Number(ready.ms), credentialsMs: Number(credentials?.ms), answered, rssKiB: memory.rssKiB, peakKiB: memory.peakKiB, idleRssKiB: idle.rssKiB };
  } finally {
    await stopDaemon(daemon);
  }
}

function mebibytes(kib: number): string {
  return `${(kib / 1024).toFixed(1)} MiB`;
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: { devices: { type: "string", default: "10000" }, requests: { type: "string", default: "5" }, "idle-seconds": { type: "string", default: "10" } },
  });
  const idleSeconds = Number(values["idle-seconds"]);
  if (!Number.isFinite(idleSeconds) || idleSeconds < 0) throw new Error(`--idle-seconds ${values["idle-seconds"]} is invalid: pass a number of seconds of 0 or more, e.g. --idle-seconds 10`);
  const deviceCount = Number(values.devices);
  const requests = Number(values.requests);
  if (!Number.isInteger(deviceCount) || deviceCount < 1) throw new Error(`--devices ${values.devices} is not a positive integer; pass e.g. --devices 10000`);
  if (!Number.isInteger(requests) || requests < 1) throw new Error(`--requests ${values.requests} is not a positive integer; pass e.g. --requests 5`);

  await buildBinary(COMPILED_BINARY);
  const counterBase = BigInt(Date.now()) * 1000n;
  const scaled = scaledHan(deviceCount);
  const reference = defaultHan();
  const scaledFolder = mkdtempSync(join(tmpdir(), "boxd-bench-han-"));
  const referenceFolder = mkdtempSync(join(tmpdir(), "boxd-bench-han-"));
  const samples: ScaleSample[] = [];
  try {
    writeJsonAtomic(join(scaledFolder, "state", "han", "devices.json"), scaled);

    const small = `${reference.length} devices`;
    const large = `${scaled.length} devices`;
    samples.push(await measure(`${small}, \`bun daemon/main.ts\`, first start`, SOURCE_COMMAND, referenceFolder, reference, requests, idleSeconds, counterBase));
    samples.push(await measure(`${large}, \`bun daemon/main.ts\`, first start`, SOURCE_COMMAND, scaledFolder, scaled, requests, idleSeconds, counterBase + 1000n));
    samples.push(await measure(`${small}, \`bun daemon/main.ts\`, restart`, SOURCE_COMMAND, referenceFolder, reference, requests, idleSeconds, counterBase + 2000n));
    samples.push(await measure(`${large}, \`bun daemon/main.ts\`, restart`, SOURCE_COMMAND, scaledFolder, scaled, requests, idleSeconds, counterBase + 3000n));
    samples.push(await measure(`${small}, \`dist/boxd\`, restart`, [COMPILED_BINARY], referenceFolder, reference, requests, idleSeconds, counterBase + 4000n));
    samples.push(await measure(`${large}, \`dist/boxd\`, restart`, [COMPILED_BINARY], scaledFolder, scaled, requests, idleSeconds, counterBase + 5000n));
  } finally {
    rmSync(scaledFolder, { recursive: true, force: true });
    rmSync(referenceFolder, { recursive: true, force: true });
  }

  const lines = [
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? "unknown CPU"}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Bun ${Bun.version}.`,
    `Command: \`bun bench/han-scale.ts --devices ${deviceCount} --requests ${requests} --idle-seconds ${idleSeconds}\` (${new Date().toISOString().slice(0, 10)}).`,
    "",
    `| start | "boxd ready" ms | "device credentials" step ms | 8.2 answered I0 | VmRSS after the requests | VmHWM | VmRSS after ${idleSeconds} s idle |`,
    "|---|---:|---:|---:|---:|---:|---:|",
    ...samples.map((s) => `| ${s.label} | ${s.readyMs.toFixed(0)} | ${s.credentialsMs.toFixed(0)} | ${s.answered} | ${mebibytes(s.rssKiB)} | ${mebibytes(s.peakKiB)} | ${mebibytes(s.idleRssKiB)} |`),
  ];
  console.log(lines.join("\n"));
}
