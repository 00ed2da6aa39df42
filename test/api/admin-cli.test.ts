import { afterEach, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "../../daemon/admin-cli.ts";
import type { Boxd } from "../../daemon/boot.ts";
import { World } from "../integration/world.ts";

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

test.each([
  [["frobnicate"], 'Unknown command "frobnicate".'],
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
