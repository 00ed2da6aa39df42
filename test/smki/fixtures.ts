import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import pino from "pino";

import { loadTrustMaterial, type DeviceSpec, type TrustMaterial } from "../../provisioning/devices/index.ts";

/** A logger that drops everything, so test output stays readable. */
export const silentLog = pino({ level: "silent" });

/** The bundled trust folder, read once per test file. */
export const trust: TrustMaterial = loadTrustMaterial();

/** Emulated devices of the fixture: the RTDS template EUIs plus one real DCC Boxed ESME EUI with letters. */
export const DEVICES: DeviceSpec[] = [
  { eui: "00DB1234567890A0", deviceType: "ESME" },
  { eui: "00-db-12-34-56-78-90-a1", deviceType: "GSME" },
  { eui: "00DB1234567890A2", deviceType: "CHF" },
  { eui: "00DB1234567890A3", deviceType: "GPF" },
  { eui: "00db1234567890a4", deviceType: "PPMID" },
  { eui: "BC-33-AC-FF-FE-FA-55-3D", deviceType: "ESME" },
];

/** A fixed clock for notBefore, so certificate contents are predictable. */
export const FIXED_NOW = new Date("2026-03-01T12:34:56.789Z");

/** Creates a temp folder and returns it with a disposer that removes it. */
export function makeTempDir(prefix: string): { path: string; [Symbol.dispose](): void } {
  const path = mkdtempSync(join(tmpdir(), `boxd-${prefix}-`));
  return {
    path,
    [Symbol.dispose]() {
      rmSync(path, { recursive: true, force: true });
    },
  };
}
