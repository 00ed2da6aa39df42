import { describe, expect, test } from "bun:test";
import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { TrustMaterialError, loadTrustMaterial } from "../../provisioning/devices/index.ts";
import { makeTempDir, trust } from "./fixtures.ts";

const TRUST_DIR = join(import.meta.dir, "..", "..", "provisioning", "trust");

describe("bundled trust material", () => {
  test("loads issuer and organisations", () => {
    expect(trust.organisations.length).toBe(33);
    expect(trust.issuer.certificate.serialNumber).toBe("587FE59553E2675B0C0E2A5C402A9F61");
    expect(Buffer.from(trust.issuer.keyIdentifier).toString("hex")).toBe("42693535d3dde101");
    expect(trust.issuer.certificate.checkPrivateKey(trust.issuer.privateKey)).toBe(true);
  });
});

describe("broken trust material", () => {
  const keystorePath = (dir: string) => join(dir, "zaz1", "keystore.json");
  const editKeystore = (dir: string, edit: (keystore: any) => unknown) => {
    const keystore = JSON.parse(readFileSync(keystorePath(dir), "utf8"));
    writeFileSync(keystorePath(dir), JSON.stringify(edit(keystore)));
  };
  const ACB_DS_SERIAL = "117636141832862931915946451229571981153";

  test.each([
    { name: "missing keystore", file: "zaz1/keystore.json", change: (dir: string) => rmSync(keystorePath(dir)), reason: /^the file cannot be read/ },
    { name: "keystore not JSON", file: "zaz1/keystore.json", change: (dir: string) => writeFileSync(keystorePath(dir), "["), reason: /^it is not JSON/ },
    {
      name: "issuer entry removed",
      file: "zaz1/keystore.json",
      change: (dir: string) => editKeystore(dir, (keystore) => { delete keystore["90b3d51f30000002"].digitalSignature[ACB_DS_SERIAL]; return keystore; }),
      reason: /^the entry named Z1-accessControlBroker-ds is missing$/,
    },
    {
      name: "issuer key swapped",
      file: "zaz1/keystore.json",
      change: (dir: string) =>
        editKeystore(dir, (keystore) => {
          const entries = keystore["90b3d51f30000002"].digitalSignature;
          entries[ACB_DS_SERIAL].privateKey = entries["77877909533459509375379681489657996324"].privateKey;
          return keystore;
        }),
      reason: /^the private key of 90b3d51f30000002\/digitalSignature\/117636141832862931915946451229571981153 does not match its certificate$/,
    },
    {
      name: "serial key mismatch",
      file: "zaz1/keystore.json",
      change: (dir: string) =>
        editKeystore(dir, (keystore) => {
          const entries = keystore["90b3d51f30000002"].digitalSignature;
          entries["1"] = entries[ACB_DS_SERIAL];
          delete entries[ACB_DS_SERIAL];
          return keystore;
        }),
      reason: /^entry 90b3d51f30000002\/digitalSignature\/1 contains a certificate with serial 0x587FE59553E2675B0C0E2A5C402A9F61/,
    },
    { name: "bad EUI key", file: "zaz1/keystore.json", change: (dir: string) => editKeystore(dir, (keystore) => ({ ...keystore, xyz: {} })), reason: /^key "xyz" is not a 16-hex-digit EUI/ },
    {
      name: "RTDS key mismatch",
      file: "rtds/00db1234567890a0-ka.key",
      change: (dir: string) => writeFileSync(join(dir, "rtds", "00db1234567890a0-ka.key"), readFileSync(join(dir, "zaz1", "dsp-xml-sign-90B3D51F30000002-ds.key.pem"))),
      reason: /^the key does not match the certificate/,
    },
  ])("$name is rejected", ({ file, change, reason }) => {
    using dir = makeTempDir("trust");
    cpSync(TRUST_DIR, dir.path, { recursive: true });
    change(dir.path);

    const load = () => loadTrustMaterial(dir.path);

    expect(load).toThrow(TrustMaterialError);
    expect(load).toThrow(expect.objectContaining({ path: join(dir.path, file), reason: expect.stringMatching(reason) }));
  });
});
