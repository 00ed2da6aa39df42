import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { X509Certificate, createPrivateKey, diffieHellman, generateKeyPairSync, sign, verify } from "node:crypto";
import { readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { KeyUsage, buildDeviceCertificateMetadata } from "@smartdcc/dccboxed-keystore";

import { readChildren, readElement } from "../../provisioning/devices/der.ts";
import {
  DeviceListError,
  buildDeviceCertificate,
  StoredCredentialsError,
  keyIdentifierOf,
  loadOrCreateDeviceCredentials,
  parseEui,
  readCertificateFields,
  statePath,
  type DeviceCredentialStore,
  type Eui,
} from "../../provisioning/devices/index.ts";
import { DEVICES, FIXED_NOW, makeTempDir, silentLog, trust } from "./fixtures.ts";

const TRUST_DIR = join(import.meta.dir, "..", "..", "provisioning", "trust");
const RTDS_KA_PEM = readFileSync(join(TRUST_DIR, "rtds", "00db1234567890a0-ka.pem"), "utf8");
const ACB_PUBLIC_KEY = trust.issuer.certificate.publicKey;

const stateDir = makeTempDir("devices");
let store: DeviceCredentialStore;

beforeAll(() => {
  store = loadOrCreateDeviceCredentials(stateDir.path, DEVICES, trust, { now: () => FIXED_NOW, log: silentLog });
});

afterAll(() => {
  stateDir[Symbol.dispose]();
});

/** Checks the ECDSA signature of a certificate over its tbsCertificate with the ACB DS public key, without X509Certificate.verify. */
function signatureVerifiesWithAcb(certificateDer: Uint8Array): boolean {
  const [tbs, , signature] = readChildren(readElement(certificateDer));
  if (tbs === undefined || signature === undefined) {
    return false;
  }
  return verify("sha256", tbs.encoded, ACB_PUBLIC_KEY, signature.content.subarray(1));
}

function opensslText(certificateDer: Uint8Array): string {
  const result = Bun.spawnSync(["openssl", "x509", "-inform", "DER", "-text", "-noout"], { stdin: certificateDer });
  expect(result.exitCode).toBe(0);
  return result.stdout.toString();
}

describe("minted device certificate", () => {
  const minted = DEVICES.filter((device) => parseEui(device.eui) !== "00db1234567890a0").flatMap((device) =>
    (["ds", "ka"] as const).map((usage) => ({ eui: parseEui(device.eui) as Eui, usage })),
  );

  test.each(minted)("$eui $usage verifies against ACB DS key", ({ eui, usage }) => {
    const pair = store.byEui(eui)![usage];

    expect(signatureVerifiesWithAcb(pair.certificateDer)).toBe(true);
    expect(pair.certificate.verify(ACB_PUBLIC_KEY)).toBe(true);
    // checkIssued() would be false: the ACB DS certificate lacks keyCertSign, exactly as on DCC Boxed.
    expect(pair.certificate.issuer).toBe(trust.issuer.certificate.subject);
  });

  test.each(minted)("$eui $usage has the DCC Boxed profile", ({ eui, usage }) => {
    const pair = store.byEui(eui)![usage];
    const fields = readCertificateFields(pair.certificateDer);
    const issuerFields = readCertificateFields(new Uint8Array(trust.issuer.certificate.raw));

    expect(fields.serial).toBe(pair.serial);
    expect(fields.serial > 0n).toBe(true);
    expect(fields.signatureAlgorithm).toBe("1.2.840.10045.4.3.2");
    expect(Buffer.from(fields.issuerDer).equals(Buffer.from(issuerFields.subjectDer))).toBe(true);
    expect(Buffer.from(fields.subjectDer).toString("hex")).toBe("3000");
    expect(fields.hardwareModuleEui).toBe(eui);
    expect(fields.keyUsageBits).toEqual(usage === "ds" ? [0] : [4]);
    expect(Buffer.from(fields.authorityKeyIdentifier!).toString("hex")).toBe("42693535d3dde101");
    // A day before minting, so a client clock somewhat behind the box still accepts it.
    expect(pair.certificate.validFrom).toBe("Feb 28 12:34:56 2026 GMT");
    expect(pair.certificate.validTo).toBe("Dec 31 23:59:59 9999 GMT");
  });

  test("openssl prints the profile", () => {
    const text = opensslText(store.byEui("00db1234567890a1")!.ka.certificateDer);

    expect(text).toContain("Issuer: OU = 04, x500UniqueIdentifier = #03090090B3D51F30000002");
    expect(text).toMatch(/Subject: *\n/);
    expect(text).toContain("Not After : Dec 31 23:59:59 9999 GMT");
    expect(text).toMatch(/X509v3 Key Usage: critical\n\s+Key Agreement\n/);
    expect(text).toMatch(/X509v3 Subject Alternative Name: critical\n\s+othername: 1\.3\.6\.1\.5\.5\.7\.8\.4::/);
    expect(text).toMatch(/X509v3 Certificate Policies: critical\n\s+Policy: 1\.2\.826\.0\.1\.8641679\.1\.2\.1\.4\n/);
    expect(text).toMatch(/X509v3 Authority Key Identifier: *\n\s+42:69:35:35:D3:DD:E1:01\n/);
    expect(text).toContain("Signature Algorithm: ecdsa-with-SHA256");
  });

  test("hardwareModuleName carries hwType and EUI", () => {
    const der = Buffer.from(store.byEui("bc33acfffefa553d")!.ds.certificateDer).toString("hex");

    // otherName [0] { 1.3.6.1.5.5.7.8.4, [0] { SEQUENCE { 1.2.826.0.1372.1.1.2.1, OCTET STRING EUI } } }
    expect(der).toContain("3026a02406082b06010505070804a0183016060a2a863a008a5c010102010408bc33acfffefa553d");
  });

  test.each(minted)("$eui $usage parses in the DCC Boxed client", ({ eui, usage }) => {
    const metadata = buildDeviceCertificateMetadata(store.byEui(eui)![usage].certificate);

    expect(metadata.eui.toString()).toBe(eui);
    expect(BigInt(metadata.serial)).toBe(store.byEui(eui)![usage].serial);
    expect(metadata.keyUsage).toEqual([usage === "ds" ? KeyUsage.digitalSignature : KeyUsage.keyAgreement]);
  });

  test("subjectKeyIdentifier follows RFC 5280 method 2", () => {
    const rtds = new X509Certificate(RTDS_KA_PEM);
    const rtdsSpki = new Uint8Array(rtds.publicKey.export({ type: "spki", format: "der" }));
    const acbSpki = new Uint8Array(ACB_PUBLIC_KEY.export({ type: "spki", format: "der" }));

    expect(Buffer.from(keyIdentifierOf(rtdsSpki)).toString("hex")).toBe("43eb833b26ee1f4f");
    expect(Buffer.from(keyIdentifierOf(acbSpki)).toString("hex")).toBe("42693535d3dde101");
  });
});

describe("device private keys", () => {
  test.each(DEVICES)("$eui DS key signs for its certificate", ({ eui }) => {
    const device = store.byEui(eui)!;
    const message = Buffer.from(`boxd ${eui}`);

    const signature = sign("sha256", message, device.ds.privateKey);

    expect(verify("sha256", message, device.ds.certificate.publicKey, signature)).toBe(true);
  });

  test.each(DEVICES)("$eui KA key agrees with ACB KA", ({ eui }) => {
    const device = store.byEui(eui)!;
    const acbKa = trust.organisations.find((organisation) => organisation.name === "Z1-accessControlBroker-ka")!;
    const acbKaEntry = JSON.parse(readFileSync(join(TRUST_DIR, "zaz1", "keystore.json"), "utf8"))["90b3d51f30000002"].keyAgreement[acbKa.serial.toString()];
    const acbPrivate = createPrivateKey(acbKaEntry.privateKey);

    const deviceSide = diffieHellman({ privateKey: device.ka.privateKey, publicKey: new X509Certificate(acbKa.certificateDer).publicKey });
    const acbSide = diffieHellman({ privateKey: acbPrivate, publicKey: device.ka.certificate.publicKey });

    expect(deviceSide.equals(acbSide)).toBe(true);
  });

  test("RTDS ESME keeps RTDS KA pair", () => {
    const device = store.byEui("00-DB-12-34-56-78-90-A0")!;
    const rtdsKey = createPrivateKey(readFileSync(join(TRUST_DIR, "rtds", "00db1234567890a0-ka.key"), "utf8"));

    expect(device.ka.certificate.raw.equals(new X509Certificate(RTDS_KA_PEM).raw)).toBe(true);
    expect(device.ka.serialHex).toBe("730C9ADAEAD36D3057022F36C2C89DE3");
    expect(device.ka.privateKey.equals(rtdsKey)).toBe(true);
    expect(signatureVerifiesWithAcb(device.ds.certificateDer)).toBe(true);
  });

  test("state files are private", () => {
    const names = readdirSync(stateDir.path).sort();

    expect(names).toEqual(DEVICES.map((device) => `${parseEui(device.eui)}.json`).sort());
    for (const name of names) {
      expect(statSync(join(stateDir.path, name)).mode & 0o777).toBe(0o600);
    }
  });

  test("lookup by serial finds each pair", () => {
    for (const device of store.list()) {
      expect(store.bySerial(device.ds.serial)).toMatchObject({ usage: "digitalSignature", device: { eui: device.eui } });
      expect(store.bySerial(device.ka.serial)).toMatchObject({ usage: "keyAgreement", device: { eui: device.eui } });
    }
    expect(store.bySerial(1n)).toBeUndefined();
  });
});

describe("restart", () => {
  test("reload returns identical credentials", () => {
    const before = statSync(statePath(stateDir.path, "00db1234567890a1" as Eui)).mtimeMs;

    const reloaded = loadOrCreateDeviceCredentials(stateDir.path, DEVICES, trust, { log: silentLog });

    for (const device of store.list()) {
      const again = reloaded.byEui(device.eui)!;
      expect(again.ds.certificate.raw.equals(device.ds.certificate.raw)).toBe(true);
      expect(again.ka.certificate.raw.equals(device.ka.certificate.raw)).toBe(true);
      expect(again.ds.privateKey.equals(device.ds.privateKey)).toBe(true);
      expect(again.ka.privateKey.equals(device.ka.privateKey)).toBe(true);
    }
    expect(statSync(statePath(stateDir.path, "00db1234567890a1" as Eui)).mtimeMs).toBe(before);
  });

  test("new device is added, old ones kept", () => {
    using dir = makeTempDir("devices-grow");
    const first = loadOrCreateDeviceCredentials(dir.path, DEVICES.slice(0, 2), trust, { log: silentLog });

    const second = loadOrCreateDeviceCredentials(dir.path, DEVICES.slice(0, 3), trust, { log: silentLog });

    expect(second.list().length).toBe(3);
    expect(second.byEui(DEVICES[1]!.eui)!.ds.serial).toBe(first.byEui(DEVICES[1]!.eui)!.ds.serial);
  });
});

describe("device list errors", () => {
  test.each([
    { name: "short EUI", devices: [{ eui: "00DB12", deviceType: "ESME" }], eui: "00DB12", reason: "the EUI is not 16 hex digits (hyphenated pairs allowed)" },
    { name: "non-hex EUI", devices: [{ eui: "00DB1234567890AZ", deviceType: "ESME" }], eui: "00DB1234567890AZ", reason: "the EUI is not 16 hex digits (hyphenated pairs allowed)" },
    {
      name: "duplicate EUI",
      devices: [
        { eui: "00DB1234567890A1", deviceType: "GSME" },
        { eui: "00-db-12-34-56-78-90-a1", deviceType: "GSME" },
      ],
      eui: "00-db-12-34-56-78-90-a1",
      reason: "the EUI appears twice in the device list",
    },
    { name: "organisation EUI", devices: [{ eui: "90B3D51F30010000", deviceType: "ESME" }], eui: "90B3D51F30010000", reason: "the EUI belongs to an organisation in keystore.json" },
    { name: "empty deviceType", devices: [{ eui: "00DB1234567890A1", deviceType: "" }], eui: "00DB1234567890A1", reason: "the deviceType is missing" },
  ])("$name is rejected", ({ devices, eui, reason }) => {
    using dir = makeTempDir("devices-bad");

    const load = () => loadOrCreateDeviceCredentials(dir.path, [...devices], trust, { log: silentLog });

    expect(load).toThrow(DeviceListError);
    expect(load).toThrow(expect.objectContaining({ eui, reason }));
    expect(readdirSync(dir.path)).toEqual([]);
  });
});

describe("stored file errors", () => {
  const EUI = "00db1234567890a2" as Eui;
  const OTHER = "00db1234567890a3" as Eui;

  /** Each case turns a valid state file (and the one of OTHER) into a broken one. */
  test.each([
    { name: "not JSON", edit: () => "{", reason: /^it is not JSON/ },
    { name: "wrong version", edit: (file: any) => ({ ...file, version: 2 }), reason: /^version 2 is not the supported version 1$/ },
    { name: "wrong EUI", edit: (file: any) => ({ ...file, eui: OTHER }), reason: /^the file belongs to EUI 00db1234567890a3$/ },
    { name: "missing KA", edit: (file: any) => ({ ...file, ka: undefined }), reason: /^the keyAgreement entry lacks a PEM certificate or private key$/ },
    { name: "garbage certificate", edit: (file: any) => ({ ...file, ds: { ...file.ds, certificate: "junk" } }), reason: /^the digitalSignature certificate or key cannot be parsed/ },
    { name: "swapped keys", edit: (file: any) => ({ ...file, ds: { ...file.ds, privateKey: file.ka.privateKey } }), reason: /^the digitalSignature private key does not match its certificate$/ },
    { name: "swapped pairs", edit: (file: any) => ({ ...file, ds: file.ka, ka: file.ds }), reason: /^the digitalSignature certificate has keyUsage bits \[4\], expected \[0\]$/ },
    {
      name: "other device's pair",
      edit: (file: any, other: any) => ({ ...file, ds: other.ds }),
      reason: /^the digitalSignature certificate names EUI 00db1234567890a3 in its subjectAltName$/,
    },
    {
      name: "RTDS pair for other EUI",
      edit: (file: any) => ({ ...file, ka: { certificate: RTDS_KA_PEM, privateKey: readFileSync(join(TRUST_DIR, "rtds", "00db1234567890a0-ka.key"), "utf8") } }),
      reason: /^the keyAgreement certificate names EUI 00db1234567890a0 in its subjectAltName$/,
    },
  ])("$name is rejected and kept", ({ edit, reason }) => {
    using dir = makeTempDir("devices-corrupt");
    const devices = [
      { eui: EUI, deviceType: "CHF" },
      { eui: OTHER, deviceType: "GPF" },
    ];
    loadOrCreateDeviceCredentials(dir.path, devices, trust, { log: silentLog });
    const path = statePath(dir.path, EUI);
    const file = JSON.parse(readFileSync(path, "utf8"));
    const other = JSON.parse(readFileSync(statePath(dir.path, OTHER), "utf8"));
    const edited = edit(file, other);
    const broken = typeof edited === "string" ? edited : JSON.stringify(edited);
    writeFileSync(path, broken);

    const load = () => loadOrCreateDeviceCredentials(dir.path, devices, trust, { log: silentLog });

    expect(load).toThrow(StoredCredentialsError);
    expect(load).toThrow(expect.objectContaining({ path, eui: EUI, reason: expect.stringMatching(reason) }));
    expect(readFileSync(path, "utf8")).toBe(broken);
  });

  test("certificate from another issuer is rejected", () => {
    using dir = makeTempDir("devices-issuer");
    const devices = [{ eui: EUI, deviceType: "CHF" }];
    loadOrCreateDeviceCredentials(dir.path, devices, trust, { log: silentLog });
    const path = statePath(dir.path, EUI);
    const file = JSON.parse(readFileSync(path, "utf8"));
    // Same issuer name and key identifier as the ACB, but signed by a different key.
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const forged = buildDeviceCertificate({
      eui: EUI,
      usage: "digitalSignature",
      publicKey,
      serial: 12345n,
      notBefore: FIXED_NOW,
      issuer: { ...trust.issuer, privateKey: generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey },
    });
    const forgedPem = new X509Certificate(forged).toString();
    writeFileSync(path, JSON.stringify({ ...file, ds: { certificate: forgedPem, privateKey: privateKey.export({ type: "pkcs8", format: "pem" }) } }));

    const load = () => loadOrCreateDeviceCredentials(dir.path, devices, trust, { log: silentLog });

    expect(load).toThrow(StoredCredentialsError);
    expect(load).toThrow(expect.objectContaining({ eui: EUI, reason: "the digitalSignature certificate is not signed by the access control broker DS key" }));
  });
});
