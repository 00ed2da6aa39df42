import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setLogLevel } from "../../daemon/log.ts";
import { DEFAULT_ADMIN_URL, loadProvisioning, verifyAdminToken } from "../../provisioning/index.ts";
import { generateKeyPair, publicKeyObject } from "../../update/lock/index.ts";
import { bytesToHex } from "@noble/hashes/utils.js";
import { IDENTITY_PUBLIC_KEY_FILE } from "../../provisioning/constants.ts";
import { readPublicKeyFile, writePublicKeyFile } from "../../update/lock/keys.ts";

setLogLevel("silent");

const FACTORY = join(import.meta.dir, "../../provisioning/factory.ts");

/** Runs the factory command with logs silenced, and returns its exit code and output. */
function factory(...args: string[]): { exitCode: number; stdout: string; stderr: string } {
  return factoryWithLogLevel("silent", ...args);
}

/** Runs the factory command with BOXD_LOG_LEVEL set to `level`, or unset when it is undefined. */
function factoryWithLogLevel(level: string | undefined, ...args: string[]): { exitCode: number; stdout: string; stderr: string } {
  const { BOXD_LOG_LEVEL: _unset, ...env } = process.env;
  const result = Bun.spawnSync([process.execPath, FACTORY, ...args], {
    stdout: "pipe",
    stderr: "pipe",
    env: level === undefined ? env : { ...env, BOXD_LOG_LEVEL: level },
  });
  return { exitCode: result.exitCode, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
}

let root: string;
let required: string[];

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "boxd-factory-"));
  const rootKey = generateKeyPair();
  const metadata = {
    signed: { _type: "root", version: 1, keys: { [rootKey.keyId]: publicKeyObject(rootKey.publicKey) }, roles: {} },
    signatures: [],
  };
  writeFileSync(join(root, "root.json"), JSON.stringify(metadata));
  writePublicKeyFile(join(root, "lock.pub.json"), generateKeyPair().publicKey);
  writeFileSync(join(root, "sticks.txt"), "# lab sticks\nusb:10c4:ea60:0001\n\neui64:00124B0001ABCDEF\n");
  required = ["--state", join(root, "state"), "--root", join(root, "root.json"), "--lock-key", join(root, "lock.pub.json")];
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe("factory command", () => {
  test("prints and writes identity public key", () => {
    const result = factory(...required);

    const loaded = loadProvisioning(join(root, "state"));
    const printed = /Identity key: +([0-9a-f]{64}) /.exec(result.stdout)?.[1];
    const file = readPublicKeyFile(join(root, "state", IDENTITY_PUBLIC_KEY_FILE), "--device-key");
    expect(result.exitCode).toBe(0);
    expect(printed).toBe(bytesToHex(loaded.identity.publicKey));
    expect(file).toEqual(publicKeyObject(loaded.identity.publicKey));
    expect(result.stdout).toContain(join(root, "state", IDENTITY_PUBLIC_KEY_FILE));
  });

  test("provisions once and prints token", () => {
    const first = factory(...required, "--sticks", join(root, "sticks.txt"), "--stick", "usb:0451:16a8:XYZ");
    const second = factory(...required);

    const loaded = loadProvisioning(join(root, "state"));
    const token = /Admin token: +(\S+)/.exec(first.stdout)?.[1] ?? "";
    expect(first).toMatchObject({ exitCode: 0, stderr: "" });
    expect(first.stdout).toContain(`Device ID:        ${loaded.deviceId}`);
    expect(first.stdout).toContain(DEFAULT_ADMIN_URL);
    expect(verifyAdminToken(token, loaded.adminCredential)).toBe(true);
    expect(loaded.allowlist).toHaveLength(3);
    expect(statSync(join(root, "state")).mode & 0o777).toBe(0o700);
    expect(second.exitCode).toBe(1);
    expect(second.stderr).toContain("--force");
    expect(second.stdout).toBe("");
  });

  test("--force with device ID and admin URL", () => {
    factory(...required);

    const forced = factory(...required, "--force", "--device-id", "lab-box-7", "--admin-url", "http://127.0.0.1:9999");

    expect(forced.exitCode).toBe(0);
    expect(forced.stdout).toContain("Device ID:        lab-box-7");
    expect(forced.stdout).toContain("http://127.0.0.1:9999");
    expect(loadProvisioning(join(root, "state")).deviceId).toBe("lab-box-7");
  });

  test.each([
    { name: "missing --state", args: () => required.slice(2), exitCode: 1, message: "--state" },
    { name: "bad stick", args: () => [...required, "--stick", "usb:1:2:3"], exitCode: 1, message: "usb:1:2:3" },
    { name: "unknown option", args: () => [...required, "--colour"], exitCode: 2, message: "--colour" },
  ])("rejects $name", ({ args, exitCode, message }) => {
    const result = factory(...args());

    expect(result.exitCode).toBe(exitCode);
    expect(result.stderr).toContain(message);
  });

  test.each([
    { level: undefined, logged: false },
    { level: "info", logged: true },
  ])("stdout has no log lines with level $level", ({ level, logged }) => {
    const result = factoryWithLogLevel(level, ...required);

    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain("Admin token:");
    expect(result.stdout.split("\n").filter((line) => line.startsWith("{"))).toEqual([]);
    const logLines = result.stderr.split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line));
    expect(logLines.some((line) => line.msg === "box provisioned")).toBe(logged);
  });

  test("rejects unknown log level", () => {
    const result = factoryWithLogLevel("loud", ...required);

    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('Invalid BOXD_LOG_LEVEL "loud"');
  });

  test("help lists options", () => {
    const result = factory("--help");

    expect(result.exitCode).toBe(0);
    for (const option of ["--state", "--root", "--lock-key", "--stick", "--sticks", "--devices", "--force"]) {
      expect(result.stdout).toContain(option);
    }
  });
});
