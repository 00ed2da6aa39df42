import { afterEach, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "../../daemon/admin-cli.ts";
import type { Boxd } from "../../daemon/boot.ts";
import { HARDWARE_ID, World } from "../integration/world.ts";

let world: World | undefined;
let boxd: Boxd | undefined;

afterEach(async () => {
  await boxd?.stop();
  boxd = undefined;
  await world?.close();
  world = undefined;
});

async function cli(w: World, box: Boxd, ...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const tokenFile = join(w.root, "admin-token");
  writeFileSync(tokenFile, `${w.adminToken}\n`);
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(["--url", `http://127.0.0.1:${box.ports.admin}`, "--token-file", tokenFile, "--poll-ms", "5", ...argv], {
    print: (line) => out.push(line),
    printError: (line) => err.push(line),
  });
  return { code, out, err };
}

test("install prints one line per progress update", async () => {
  const w = (world = await World.create());
  const box = (boxd = await w.start());

  const result = await cli(w, box, "install");

  expect(result.code).toBe(0);
  expect(result.out[0]).toBe("Installing 1.1.0 (current/boxd-1.1.0.img)");
  expect(result.out.some((line) => line.startsWith("1.1.0  done         100.0%"))).toBe(true);
  expect(result.out.at(-1)).toStartWith("Installed. Restart boxd");
  expect(new Set(result.out).size).toBe(result.out.length);
});

test("status and signature switch", async () => {
  const w = (world = await World.create());
  const box = (boxd = await w.start());

  const off = await cli(w, box, "signature-validation", "off");
  const status = await cli(w, box, "status");

  expect(off.code).toBe(0);
  expect(JSON.parse(off.out.join("\n"))).toEqual({ enabled: false });
  expect(JSON.parse(status.out.join("\n"))).toMatchObject({ deviceId: "boxd-integration-0001", duisSignatureValidation: false });
});

test("locked box refusal is printed with the contact", async () => {
  const w = (world = await World.create());
  w.lock();
  const box = (boxd = await w.start());

  const result = await cli(w, box, "check");

  expect(result.code).toBe(1);
  expect(result.err.join("\n")).toContain("DeviceLocked: Refused update check");
  expect(result.err.join("\n")).toContain("DCC service desk");
});

test("downgrade refusal names the option", async () => {
  const w = (world = await World.create());
  const file = join(w.root, "boxd-1.0.1.img");
  writeFileSync(file, "boxd image 1.0.1");
  w.vendor.addRelease({ file, kind: "full", version: "1.0.1", counter: 9, channel: "current", hardwareIds: [HARDWARE_ID], duisVersions: ["5.4"], gbcsVersions: ["4.2"], downgradeFrom: [11] });
  w.vendor.publish();
  let box = (boxd = await w.start());
  expect((await cli(w, box, "install")).code).toBe(0);
  await box.stop();
  box = boxd = await w.start();
  await cli(w, box, "pin", "1.0.1");

  const refused = await cli(w, box, "install");
  const confirmed = await cli(w, box, "install", "--confirm-downgrade");

  expect(refused.code).toBe(1);
  expect(refused.err.join("\n")).toBe("DowngradeNotConfirmed: Installing 1.0.1 downgrades from 1.1.0. Run install --confirm-downgrade to install it.");
  expect(confirmed.code).toBe(0);
  expect(confirmed.out[0]).toBe("Installing 1.0.1 (current/boxd-1.0.1.img)");
});

test("bad and clear-bad call the API", async () => {
  const w = (world = await World.create());
  const box = (boxd = await w.start());

  const listed = await cli(w, box, "bad");
  const cleared = await cli(w, box, "clear-bad", "1.1.0");

  expect(JSON.parse(listed.out.join("\n"))).toEqual({ bad: [] });
  expect(cleared.code).toBe(1);
  expect(cleared.err.join("\n")).toBe("BadMarkNotFound: Release 1.1.0 is not marked bad. Marked bad now: none.");
});

test("refresh-lock offline explains the null refresh", async () => {
  const w = (world = await World.create());
  const box = (boxd = await w.start({ BOXD_LOCK_CHECK_IN_URL: "" }));

  const result = await cli(w, box, "refresh-lock");

  expect(result.code).toBe(0);
  expect(JSON.parse(result.out.join("\n"))).toMatchObject({ mode: "offline", refresh: null, reason: expect.stringContaining("lock.checkInUrl") });
});

test.each([
  [["frobnicate"], 'Unknown command "frobnicate".'],
  [["clear-bad"], "clear-bad needs a VERSION; run bad to list the marked versions."],
  [["channel"], "channel needs current or upcoming."],
  [["signature-validation", "maybe"], 'signature-validation takes on or off, not "maybe".'],
  [["--poll-ms", "0", "install"], '--poll-ms must be a whole number of ms from 1 to 60000, not "0".'],
])("usage error %p", async (argv, message) => {
  const w = (world = await World.create({ provision: false }));
  const tokenFile = join(w.root, "admin-token");
  writeFileSync(tokenFile, "token\n");
  const err: string[] = [];

  const code = await run(["--url", "http://127.0.0.1:1", "--token-file", tokenFile, ...argv], { print: () => {}, printError: (line) => err.push(line) });

  expect(code).toBe(2);
  expect(err.join("\n")).toContain(message);
});
