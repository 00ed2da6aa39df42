import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CheckInInvalid,
  LockSettingInvalid,
  RemoteLock,
  generateKeyPair,
  parseStatement,
  publicKeyObject,
  readPublicKeyFile,
  readSecretKeyFile,
  DEFAULT_LOCK_LIMITS,
} from "../../update/lock/index.ts";
import { writePublicKeyFile } from "../../update/lock/keys.ts";
import { AUTHORITY_PUBLIC_KEY_FILE, AUTHORITY_SECRET_KEY_FILE, issueStatement, servedFolder } from "../../update/lock/vendor.ts";
import { VendorRepository } from "../../update/vendor/repository.ts";
import { LockWorld } from "./harness.ts";

const VENDOR = join(import.meta.dir, "../../update/lock/vendor.ts");
const RELEASE = { version: "2.4.0", channel: "current" };

/** Runs the vendor command and returns its exit code and output. */
function vendor(...args: string[]): { exitCode: number; stdout: string; stderr: string } {
  const result = Bun.spawnSync([process.execPath, VENDOR, ...args], { stdout: "pipe", stderr: "pipe" });
  return { exitCode: result.exitCode, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
}

let world: LockWorld;
let keyDir: string;

beforeEach(() => {
  world = new LockWorld();
  keyDir = mkdtempSync(join(tmpdir(), "boxd-lock-keys-"));
});

afterEach(async () => {
  await world.close();
  rmSync(keyDir, { recursive: true, force: true });
});

describe("vendor command", () => {
  test("lock and unlock through the CLI", async () => {
    expect(vendor("keygen", "--out", keyDir).exitCode).toBe(0);
    const secretPath = join(keyDir, AUTHORITY_SECRET_KEY_FILE);
    const publicPath = join(keyDir, AUTHORITY_PUBLIC_KEY_FILE);
    expect(statSync(secretPath).mode & 0o777).toBe(0o600);
    expect(readPublicKeyFile(publicPath, "key")).toEqual(publicKeyObject(readSecretKeyFile(secretPath, "key").publicKey));

    const lock = RemoteLock.open({
      stateDir: world.stateDir,
      deviceId: world.deviceId,
      authorityKey: readPublicKeyFile(publicPath, "key"),
      identity: world.identity,
      repositoryUrl: world.repositoryUrl,
      checkInUrl: world.checkInUrl,
    });
    const common = ["--key", secretPath, "--repo", world.repositoryDir, "--device", world.deviceId];

    const locked = vendor("lock", ...common, "--message", "Reported stolen.", "--contact", "lab desk");
    await lock.refresh(RELEASE);
    const statusAfterLock = lock.status();

    writePublicKeyFile(join(keyDir, "device.pub.json"), world.identity.publicKey);
    const unlocked = vendor("unlock", ...common, "--check-in", world.latestCheckInPath, "--device-key", join(keyDir, "device.pub.json"));
    await lock.refresh(RELEASE);

    expect(locked).toMatchObject({ exitCode: 0, stderr: "" });
    expect(statusAfterLock).toEqual({ locked: true, sequence: 1, message: "Reported stolen.", contact: "lab desk" });
    expect(unlocked).toMatchObject({ exitCode: 0, stderr: "" });
    expect(lock.status()).toEqual({ locked: false, sequence: 2, message: "", contact: "" });
  });

  test("keygen refuses to overwrite", () => {
    expect(vendor("keygen", "--out", keyDir).exitCode).toBe(0);
    const before = readFileSync(join(keyDir, AUTHORITY_SECRET_KEY_FILE), "utf8");

    const second = vendor("keygen", "--out", keyDir);

    expect(second.exitCode).toBe(1);
    expect(second.stderr).toContain("--force");
    expect(readFileSync(join(keyDir, AUTHORITY_SECRET_KEY_FILE), "utf8")).toBe(before);
  });

  test("help and unknown command", () => {
    const help = vendor("--help");
    const unknown = vendor("erase");

    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain("keygen");
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain("erase");
  });
});

describe("issueStatement", () => {
  test("sequence increases from published", () => {
    const authority = generateKeyPair();
    const base = { authority, repositoryDir: world.repositoryDir, deviceId: world.deviceId, message: "m", contact: "c" };

    issueStatement({ ...base, state: "locked" });
    const { path, statement } = issueStatement({ ...base, state: "locked", message: "second" });

    expect(statement.signed.sequence).toBe(2);
    expect(parseStatement(readFileSync(path), DEFAULT_LOCK_LIMITS).signed).toMatchObject({ sequence: 2, message: "second" });
  });

  test.each([
    { name: "sequence not above published", change: { sequence: 1 }, setting: "--sequence" },
    { name: "unlock without nonce", change: { state: "unlocked" as const }, setting: "--nonce" },
    { name: "device ID with slash", change: { deviceId: "a/b" }, setting: "--device" },
  ])("rejects $name", ({ change, setting }) => {
    const base = { authority: generateKeyPair(), repositoryDir: world.repositoryDir, deviceId: world.deviceId, message: "m", contact: "c" };
    issueStatement({ ...base, state: "locked" });

    const issue = () => issueStatement({ ...base, state: "locked", ...change });

    expect(issue).toThrow(LockSettingInvalid);
    expect(issue).toThrow(expect.objectContaining({ setting }));
  });

  test("unlock rejects check-in of other device", async () => {
    expect(vendor("keygen", "--out", keyDir).exitCode).toBe(0);
    await world.open({ deviceId: "boxd-9999888877776666" }).checkIn(RELEASE);

    const result = vendor(
      "unlock",
      "--key", join(keyDir, AUTHORITY_SECRET_KEY_FILE),
      "--repo", world.repositoryDir,
      "--device", world.deviceId,
      "--check-in", world.latestCheckInPath,
    );

    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("boxd-9999888877776666");
    expect(existsSync(join(world.repositoryDir, "lock", `${world.deviceId}.json`))).toBe(false);
  });

  test("unlock rejects forged check-in", async () => {
    expect(vendor("keygen", "--out", keyDir).exitCode).toBe(0);
    await world.open().checkIn(RELEASE);
    writePublicKeyFile(join(keyDir, "other.pub.json"), generateKeyPair().publicKey);

    const result = vendor(
      "unlock",
      "--key", join(keyDir, AUTHORITY_SECRET_KEY_FILE),
      "--repo", world.repositoryDir,
      "--device", world.deviceId,
      "--check-in", world.latestCheckInPath,
      "--device-key", join(keyDir, "other.pub.json"),
    );

    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(new CheckInInvalid("signatures", "").message.split(":")[0] ?? "");
    expect(result.stderr).toContain("identity.pub.json");
    expect(result.stderr).not.toContain("Wait for the box's next check-in");
  });

  test("writes into public of vendor repository", () => {
    const repository = VendorRepository.create(join(keyDir, "vendor"));
    const authority = generateKeyPair();

    const { path } = issueStatement({ authority, repositoryDir: repository.folder, deviceId: world.deviceId, state: "locked", message: "m", contact: "c" });

    expect(path).toBe(join(repository.folder, "public", "lock", `${world.deviceId}.json`));
    expect(servedFolder(repository.folder)).toBe(join(repository.folder, "public"));
    expect(statSync(path).mode & 0o777).toBe(0o644);
    expect(statSync(join(repository.folder, "public", "lock")).mode & 0o777).toBe(0o755);
  });

  test("writes into a served folder as given", () => {
    const { path } = issueStatement({ authority: generateKeyPair(), repositoryDir: world.repositoryDir, deviceId: world.deviceId, state: "locked", message: "m", contact: "c" });

    expect(path).toBe(join(world.repositoryDir, "lock", `${world.deviceId}.json`));
  });
});

describe("unlock sequence", () => {
  test("follows sequence reported by box", async () => {
    expect(vendor("keygen", "--out", keyDir).exitCode).toBe(0);
    const secretPath = join(keyDir, AUTHORITY_SECRET_KEY_FILE);
    const authority = readSecretKeyFile(secretPath, "key");
    const lock = RemoteLock.open({
      stateDir: world.stateDir,
      deviceId: world.deviceId,
      authorityKey: publicKeyObject(authority.publicKey),
      identity: world.identity,
      repositoryUrl: world.repositoryUrl,
      checkInUrl: world.checkInUrl,
    });
    issueStatement({ authority, repositoryDir: world.repositoryDir, deviceId: world.deviceId, state: "locked", sequence: 12, message: "m", contact: "c" });
    await lock.refresh(RELEASE);
    // The repository file is lost, so only the box's check-in still shows sequence 12.
    rmSync(join(world.repositoryDir, "lock"), { recursive: true });

    const result = vendor("unlock", "--key", secretPath, "--repo", world.repositoryDir, "--device", world.deviceId, "--check-in", world.latestCheckInPath);
    await lock.fetchAndApplyLockStatement();

    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain("sequence 13");
    expect(lock.status()).toEqual({ locked: false, sequence: 13, message: "", contact: "" });
  });
});
