import { afterAll, describe, expect, test } from "bun:test";
import { createPrivateKey, generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  GbcsUsageError,
  KeyStore,
  KeyStoreError,
  loadPrivateKey,
  loadPublicKey,
  publicKeyFromCertificate,
} from "../../daemon/gbcs/index.ts";
import { ACB, caught, DEVICE_KEY_DIR, ORG_KEYSTORE_PATH, SUPPLIER } from "./fixtures.ts";

const temp = mkdtempSync(join(tmpdir(), "boxd-gbcs-keys-"));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const a0Certificate = () => readFileSync(join(DEVICE_KEY_DIR, "00db1234567890a0-ka.pem"), "utf8");

describe("key loading", () => {
  test("PEM and DER private keys match", () => {
    const pem = readFileSync(join(DEVICE_KEY_DIR, "00db1234567890a0-ka.key"), "utf8");
    const der = createPrivateKey(pem).export({ format: "der", type: "pkcs8" });

    const fromPem = loadPrivateKey(pem).export({ format: "jwk" });
    const fromDer = loadPrivateKey(new Uint8Array(der)).export({ format: "jwk" });

    expect(fromDer).toEqual(fromPem);
  });

  test("certificate in PEM and DER gives one key", () => {
    const pem = a0Certificate();
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ""), "base64");

    const fromPem = publicKeyFromCertificate(pem).export({ format: "jwk" });
    const fromDer = loadPublicKey(new Uint8Array(der)).export({ format: "jwk" });

    expect(fromDer).toEqual(fromPem);
    expect(fromPem.crv).toBe("P-256");
  });

  test("PEM public key loads", () => {
    const pair = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const pem = pair.publicKey.export({ format: "pem", type: "spki" }).toString();

    expect(loadPublicKey(pem).export({ format: "jwk" })).toEqual(pair.publicKey.export({ format: "jwk" }));
  });

  test.each([
    ["private key from text", () => loadPrivateKey("not a key")],
    ["private key from bytes", () => loadPrivateKey(new Uint8Array([1, 2, 3]))],
    ["certificate from bytes", () => publicKeyFromCertificate(new Uint8Array([0x30, 0x00]))],
    ["public key from PEM garbage", () => loadPublicKey("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----")],
  ])("%s is a usage error", (_name, action) => {
    expect(caught(action)).toBeInstanceOf(GbcsUsageError);
  });
});

describe("key store", () => {
  test("finds the ACB KA key by name", () => {
    const store = KeyStore.load(ORG_KEYSTORE_PATH);

    const entry = store.find({ eui: ACB, usage: "keyAgreement", name: "Z1-accessControlBroker-ka" });

    expect(entry.role).toBe(4);
    expect(entry.privateKey).toContain("PRIVATE KEY");
    expect(store.privateKey({ eui: ACB, usage: "keyAgreement", name: "Z1-accessControlBroker-ka" }).type).toBe("private");
  });

  test("accepts EUIs with dashes in a query", () => {
    const store = KeyStore.load(ORG_KEYSTORE_PATH);

    expect(store.publicKey({ eui: "90-B3-D5-1F-30-01-00-00", usage: "keyAgreement", name: "Z1-supplier-ka" }).type).toBe("public");
  });

  test.each([
    ["unknown EUI", { eui: "0102030405060708", usage: "keyAgreement" as const }, "has no entry"],
    ["several supplier KA keys", { eui: SUPPLIER, usage: "keyAgreement" as const }, "pass name or serial"],
    ["unknown name", { eui: SUPPLIER, usage: "keyAgreement" as const, name: "Z9-supplier-ka" }, "has no entry"],
  ])("%s is rejected", (_name, query, detail) => {
    const error = caught(() => KeyStore.load(ORG_KEYSTORE_PATH).find(query));

    expect(error).toBeInstanceOf(KeyStoreError);
    expect((error as KeyStoreError).detail).toContain(detail);
  });

  test("entry without private key is rejected", () => {
    const path = join(temp, "public-only.json");
    writeFileSync(path, JSON.stringify({ "00db1234567890a0": { keyAgreement: { "1": { certificate: a0Certificate() } } } }));

    const error = caught(() => KeyStore.load(path).privateKey({ eui: "00DB1234567890A0", usage: "keyAgreement" }));

    expect(error).toBeInstanceOf(KeyStoreError);
    expect((error as KeyStoreError).detail).toContain("has no private key");
  });

  test.each([
    ["missing file", null, "cannot be read"],
    ["invalid JSON", "{", "is not valid JSON"],
    ["array at the top", "[]", "top level"],
    ["EUI of 15 digits", JSON.stringify({ "00db1234567890a": {} }), "not an EUI-64"],
    ["unknown usage", JSON.stringify({ "00db1234567890a0": { signing: {} } }), "expected digitalSignature or keyAgreement"],
    ["entry without certificate", JSON.stringify({ "00db1234567890a0": { keyAgreement: { "1": {} } } }), "needs a certificate"],
  ])("%s is a key store error", (name, text, detail) => {
    const path = join(temp, `${name.replaceAll(" ", "-")}.json`);
    if (text !== null) writeFileSync(path, text);

    const error = caught(() => KeyStore.load(path));

    expect(error).toBeInstanceOf(KeyStoreError);
    expect((error as KeyStoreError).detail).toContain(detail);
  });
});
