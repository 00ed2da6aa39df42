import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setLogLevel } from "../../daemon/log.ts";
import {
  AlreadyProvisioned,
  DEVELOPMENT_ADMIN_TOKEN_FILE,
  IDENTITY_KEY_FILE,
  LOCK_AUTHORITY_KEY_FILE,
  MAX_ROOT_METADATA_BYTES,
  PROVISIONING_FILE,
  ProvisioningDataInvalid,
  ProvisioningInputInvalid,
  ROOT_METADATA_FILE,
  isStickAllowed,
  loadProvisioning,
  parseStickEntry,
  provisionDevice,
  verifyAdminToken,
  type DeviceCredentialsContext,
  type FactoryOptions,
} from "../../provisioning/index.ts";
import { DeviceLocked, LockStore, generateKeyPair, keyIdOf, publicKeyObject, type Ed25519KeyPair } from "../../update/lock/index.ts";
import { writePublicKeyFile } from "../../update/lock/keys.ts";

setLogLevel("silent");

let root: string;
let stateDir: string;
let rootMetadataPath: string;
let lockKeyPath: string;
let rootKey: Ed25519KeyPair;
let lockKey: Ed25519KeyPair;

/** Writes a TUF root with `rootKey` as its only key, indented so that a re-serialised copy would differ. */
function writeRoot(path: string, signed: Record<string, unknown> = {}): void {
  const key = publicKeyObject(rootKey.publicKey);
  const metadata = {
    signed: {
      _type: "root",
      spec_version: "1.0.31",
      version: 1,
      expires: "2030-01-01T00:00:00Z",
      consistent_snapshot: true,
      keys: { [rootKey.keyId]: key },
      roles: { root: { keyids: [rootKey.keyId], threshold: 1 } },
      ...signed,
    },
    signatures: [],
  };
  writeFileSync(path, `${JSON.stringify(metadata, null, 4)}\n`);
}

function options(overrides: Partial<FactoryOptions> = {}): FactoryOptions {
  return { stateDir, rootMetadataPath, lockAuthorityKeyPath: lockKeyPath, allowlist: [], force: false, ...overrides };
}

function modeOf(path: string): number {
  return statSync(path).mode & 0o777;
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "boxd-provisioning-"));
  stateDir = join(root, "state");
  rootMetadataPath = join(root, "root.json");
  lockKeyPath = join(root, "lock-authority.pub.json");
  rootKey = generateKeyPair();
  lockKey = generateKeyPair();
  writeRoot(rootMetadataPath);
  writePublicKeyFile(lockKeyPath, lockKey.publicKey);
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe("provisionDevice", () => {
  test("creates identity, anchors and credential", async () => {
    const sticks = [parseStickEntry("usb:10C4:EA60:0001", "--stick"), parseStickEntry("eui64:00-12-4B-00-01-AB-CD-EF", "--stick")];

    const result = await provisionDevice(options({ allowlist: sticks }));
    const loaded = loadProvisioning(stateDir);

    expect(result.deviceId).toMatch(/^boxd-[0-9a-f]{16}$/);
    expect(loaded.mode).toBe("factory");
    expect(loaded.deviceId).toBe(result.deviceId);
    expect(loaded.identity.keyId).toBe(result.identityKeyId);
    expect(loaded.anchors?.lockAuthorityKey).toEqual(publicKeyObject(lockKey.publicKey));
    expect(Buffer.from(loaded.anchors?.rootMetadata ?? []).equals(readFileSync(rootMetadataPath))).toBe(true);
    expect(verifyAdminToken(result.adminToken, loaded.adminCredential)).toBe(true);
    expect(verifyAdminToken(`${result.adminToken}x`, loaded.adminCredential)).toBe(false);
    expect(loaded.allowlist).toEqual([
      { kind: "usb", vendorId: "10c4", productId: "ea60", serial: "0001" },
      { kind: "eui64", eui64: "00124B0001ABCDEF" },
    ]);
    expect(loaded.developmentAdminTokenPath).toBeNull();
  });

  test("files are private and complete", async () => {
    const result = await provisionDevice(options());

    expect(modeOf(stateDir)).toBe(0o700);
    for (const file of [PROVISIONING_FILE, IDENTITY_KEY_FILE, ROOT_METADATA_FILE, LOCK_AUTHORITY_KEY_FILE]) {
      expect(modeOf(join(stateDir, file))).toBe(0o600);
    }
    expect(readdirSync(stateDir).filter((name) => name.endsWith(".tmp"))).toEqual([]);
    const record = readFileSync(join(stateDir, PROVISIONING_FILE), "utf8");
    expect(record).not.toContain(result.adminToken);
  });

  test("narrows an existing state directory", async () => {
    await provisionDevice(options({ stateDir: root }));

    expect(modeOf(root)).toBe(0o700);
  });

  test("second run needs --force", async () => {
    const first = await provisionDevice(options());
    const before = readFileSync(join(stateDir, IDENTITY_KEY_FILE), "utf8");

    const second = provisionDevice(options());

    await expect(second).rejects.toBeInstanceOf(AlreadyProvisioned);
    await expect(second).rejects.toMatchObject({ stateDir, deviceId: first.deviceId });
    expect(readFileSync(join(stateDir, IDENTITY_KEY_FILE), "utf8")).toBe(before);
  });

  test("--force replaces identity", async () => {
    const first = await provisionDevice(options());

    const second = await provisionDevice(options({ force: true }));

    expect(second.replaced).toBe(true);
    expect(second.deviceId).not.toBe(first.deviceId);
    expect(loadProvisioning(stateDir).identity.keyId).toBe(second.identityKeyId);
  });

  test("--force refused while locked", async () => {
    const first = await provisionDevice(options());
    new LockStore(stateDir).writeLockState({
      deviceId: first.deviceId,
      state: "locked",
      sequence: 7,
      message: "Reported stolen.",
      contact: "lab desk",
      statementDigest: null,
    });

    const attempt = provisionDevice(options({ force: true }));

    await expect(attempt).rejects.toBeInstanceOf(DeviceLocked);
    await expect(attempt).rejects.toMatchObject({ action: "re-provisioning", sequence: 7, contact: "lab desk" });
    expect(loadProvisioning(stateDir).deviceId).toBe(first.deviceId);
  });

  test("--force refused with unreadable lock state", async () => {
    await provisionDevice(options());
    writeFileSync(join(stateDir, "lock.json"), "garbage");

    await expect(provisionDevice(options({ force: true }))).rejects.toBeInstanceOf(DeviceLocked);
  });

  test("device credentials hook runs before record", async () => {
    const calls: { context: DeviceCredentialsContext; recordExists: boolean }[] = [];

    const result = await provisionDevice(
      options({
        deviceCredentials: (context) => {
          calls.push({ context, recordExists: existsSync(join(stateDir, PROVISIONING_FILE)) });
        },
      }),
    );

    expect(calls).toHaveLength(1);
    expect(calls[0]?.context).toMatchObject({ stateDir, credentialsDir: join(stateDir, "devices"), deviceId: result.deviceId });
    expect(calls[0]?.recordExists).toBe(false);
  });

  test("failing hook leaves box unprovisioned", async () => {
    const attempt = provisionDevice(
      options({
        deviceCredentials: () => {
          throw new Error("no trust material");
        },
      }),
    );

    await expect(attempt).rejects.toThrow("no trust material");
    expect(existsSync(join(stateDir, PROVISIONING_FILE))).toBe(false);
    expect((await provisionDevice(options())).replaced).toBe(false);
  });

  test.each([
    { name: "missing root file", change: () => options({ rootMetadataPath: join(root, "absent.json") }), option: "--root" },
    {
      name: "root not JSON",
      change: () => {
        writeFileSync(rootMetadataPath, "{");
        return options();
      },
      option: "--root",
    },
    {
      name: "targets instead of root",
      change: () => {
        writeRoot(rootMetadataPath, { _type: "targets" });
        return options();
      },
      option: "--root",
    },
    {
      name: "root version zero",
      change: () => {
        writeRoot(rootMetadataPath, { version: 0 });
        return options();
      },
      option: "--root",
    },
    {
      name: "root too large",
      change: () => {
        writeRoot(rootMetadataPath, { padding: "x".repeat(MAX_ROOT_METADATA_BYTES) });
        return options();
      },
      option: "--root",
    },
    {
      name: "lock key listed in root",
      change: () => {
        writePublicKeyFile(lockKeyPath, rootKey.publicKey);
        return options();
      },
      option: "--lock-key",
    },
    {
      name: "lock key not a key",
      change: () => {
        writeFileSync(lockKeyPath, '{"keytype":"rsa"}');
        return options();
      },
      option: "--lock-key",
    },
    { name: "device ID with slash", change: () => options({ deviceId: "a/b" }), option: "--device-id" },
  ])("rejects $name", async ({ change, option }) => {
    const attempt = provisionDevice(change());

    await expect(attempt).rejects.toBeInstanceOf(ProvisioningInputInvalid);
    await expect(attempt).rejects.toMatchObject({ option });
    expect(existsSync(join(stateDir, PROVISIONING_FILE))).toBe(false);
  });
});

describe("loadProvisioning", () => {
  test("development mode on fresh state", () => {
    const loaded = loadProvisioning(stateDir);

    expect(loaded.mode).toBe("development");
    expect(loaded.anchors).toBeNull();
    expect(loaded.allowlist).toEqual([]);
    expect(loaded.developmentAdminTokenPath).toBe(join(stateDir, DEVELOPMENT_ADMIN_TOKEN_FILE));
    expect(modeOf(stateDir)).toBe(0o700);
    expect(modeOf(join(stateDir, DEVELOPMENT_ADMIN_TOKEN_FILE))).toBe(0o600);
    const token = readFileSync(join(stateDir, DEVELOPMENT_ADMIN_TOKEN_FILE), "utf8").trim();
    expect(verifyAdminToken(token, loaded.adminCredential)).toBe(true);
  });

  test("development identity persists", () => {
    const first = loadProvisioning(stateDir);

    const second = loadProvisioning(stateDir);

    expect(second.mode).toBe("development");
    expect(second.deviceId).toBe(first.deviceId);
    expect(second.identity.keyId).toBe(first.identity.keyId);
  });

  test("factory replaces development identity", async () => {
    const development = loadProvisioning(stateDir);

    const result = await provisionDevice(options());
    const loaded = loadProvisioning(stateDir);

    expect(result.replaced).toBe(true);
    expect(loaded.mode).toBe("factory");
    expect(loaded.deviceId).not.toBe(development.deviceId);
    expect(existsSync(join(stateDir, DEVELOPMENT_ADMIN_TOKEN_FILE))).toBe(false);
  });

  test.each([
    { name: "record not JSON", damage: () => writeFileSync(join(stateDir, PROVISIONING_FILE), "{"), file: PROVISIONING_FILE },
    { name: "identity key missing", damage: () => rmSync(join(stateDir, IDENTITY_KEY_FILE)), file: IDENTITY_KEY_FILE },
    {
      name: "identity key swapped",
      damage: () => {
        const other = generateKeyPair();
        const secret = { ...publicKeyObject(other.publicKey), keyval: { public: Buffer.from(other.publicKey).toString("hex"), private: Buffer.from(other.secretKey).toString("hex") } };
        writeFileSync(join(stateDir, IDENTITY_KEY_FILE), JSON.stringify(secret));
      },
      file: IDENTITY_KEY_FILE,
    },
    { name: "root anchor missing", damage: () => rmSync(join(stateDir, ROOT_METADATA_FILE)), file: ROOT_METADATA_FILE },
    {
      name: "lock anchor swapped",
      damage: () => writePublicKeyFile(join(stateDir, LOCK_AUTHORITY_KEY_FILE), generateKeyPair().publicKey),
      file: LOCK_AUTHORITY_KEY_FILE,
    },
  ])("rejects $name", async ({ damage, file }) => {
    await provisionDevice(options());
    damage();

    expect(() => loadProvisioning(stateDir)).toThrow(ProvisioningDataInvalid);
    expect(() => loadProvisioning(stateDir)).toThrow(expect.objectContaining({ path: join(stateDir, file) }));
  });

  test("lock key ID recorded", async () => {
    const result = await provisionDevice(options());

    expect(result.lockAuthorityKeyId).toBe(keyIdOf(publicKeyObject(lockKey.publicKey)));
  });
});

describe("stick allowlist", () => {
  const allowlist = [parseStickEntry("usb:10c4:ea60:A1B2", "--stick"), parseStickEntry("eui64:00124b0001abcdef", "--stick")];

  test.each([
    { name: "USB match", stick: { vendorId: "10C4", productId: "EA60", serial: "A1B2" }, allowed: true },
    { name: "USB other serial", stick: { vendorId: "10c4", productId: "ea60", serial: "A1B3" }, allowed: false },
    { name: "USB without serial", stick: { vendorId: "10c4", productId: "ea60" }, allowed: false },
    { name: "EUI-64 with colons", stick: { eui64: "00:12:4b:00:01:ab:cd:ef" }, allowed: true },
    { name: "other EUI-64", stick: { eui64: "00124B0001ABCDEE" }, allowed: false },
    { name: "nothing known", stick: {}, allowed: false },
  ])("$name", ({ stick, allowed }) => {
    expect(isStickAllowed(allowlist, stick)).toBe(allowed);
  });

  test("empty allowlist allows nothing", () => {
    expect(isStickAllowed([], { eui64: "00124B0001ABCDEF" })).toBe(false);
  });

  test.each([
    { name: "unknown kind", text: "pci:1234" },
    { name: "short vendor ID", text: "usb:10c:ea60:A1" },
    { name: "missing serial", text: "usb:10c4:ea60:" },
    { name: "short EUI-64", text: "eui64:00124B" },
    { name: "non-hex EUI-64", text: "eui64:00124B0001ABCDEZ" },
  ])("rejects $name", ({ text }) => {
    expect(() => parseStickEntry(text, "--stick")).toThrow(ProvisioningInputInvalid);
    expect(() => parseStickEntry(text, "--stick")).toThrow(expect.objectContaining({ option: "--stick", value: text }));
  });
});
