import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { X509Certificate, createPrivateKey, diffieHellman, sign, verify, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { BoxedKeyStore, KeyUsage } from "@smartdcc/dccboxed-keystore";
import { query, search } from "@smartdcc/dccboxed-keystore/dist/certificateSearch";
import type { CertificateRole, CertificateStatus, CertificateUsage } from "@smartdcc/dccboxed-keystore/dist/certificateSearch";

import { createSmkiApp, createSmkiStore, SMKI_MAX_REQUEST_BYTES } from "../../daemon/smki/index.ts";
import {
  formatEuiHyphenated,
  loadOrCreateDeviceCredentials,
  type DeviceCredentialStore,
} from "../../provisioning/devices/index.ts";
import { DEVICES, makeTempDir, silentLog, trust } from "./fixtures.ts";

const KEYSTORE = JSON.parse(readFileSync(join(import.meta.dir, "..", "..", "provisioning", "trust", "zaz1", "keystore.json"), "utf8"));

const workDir = makeTempDir("smki");
const stateDir = join(workDir.path, "devices");
let devices: DeviceCredentialStore;
let server: ReturnType<typeof Bun.serve>;
let address: string;

function serve(store: DeviceCredentialStore): ReturnType<typeof Bun.serve> {
  const app = createSmkiApp({ store: createSmkiStore({ devices: store, organisations: trust.organisations }), log: silentLog });
  return Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: app.fetch });
}

beforeAll(() => {
  devices = loadOrCreateDeviceCredentials(stateDir, DEVICES, trust, { log: silentLog });
  server = serve(devices);
  address = `127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await server.stop(true);
  workDir[Symbol.dispose]();
});

/** Opens the DCC Boxed client with an empty cache file of its own. */
async function openClient(name: string): Promise<BoxedKeyStore> {
  return BoxedKeyStore.new(address, join(workDir.path, `${name}-cache.json`));
}

function organisationPrivateKey(eui: string, usage: "digitalSignature" | "keyAgreement", serial: bigint): KeyObject {
  return createPrivateKey(KEYSTORE[eui][usage][serial.toString()].privateKey);
}

async function post(path: string, body: string, query = "?apikey=u3bg9gt38htd0j2"): Promise<Response> {
  return fetch(`http://${address}${path}${query}`, { method: "POST", headers: { "content-type": "application/xml" }, body });
}

function searchBody(inner: string): string {
  return `<?xml version="1.0" encoding="utf-8"?><CertificateSearchRequest>${inner}</CertificateSearchRequest>`;
}

function retrieveBody(inner: string): string {
  return `<?xml version="1.0" encoding="utf-8"?><CertificateDataRequest>${inner}</CertificateDataRequest>`;
}

describe("DCC Boxed client", () => {
  test.each(DEVICES)("finds $eui DS certificate", async ({ eui }) => {
    const client = await openClient(`ds-${eui}`);
    const device = devices.byEui(eui)!;

    const found = await client.query({ eui, keyUsage: KeyUsage.digitalSignature, lookup: "certificate" });

    expect(found?.length).toBe(1);
    expect(found![0]!.certificate.raw.equals(device.ds.certificate.raw)).toBe(true);
    expect(found![0]!.keyUsage).toEqual([KeyUsage.digitalSignature]);
    const message = Buffer.from("GBCS command");
    const signature = sign("sha256", message, device.ds.privateKey);
    expect(verify("sha256", message, found![0]!.certificate.publicKey, signature)).toBe(true);
  });

  test.each(DEVICES)("finds $eui KA certificate", async ({ eui }) => {
    const client = await openClient(`ka-${eui}`);
    const device = devices.byEui(eui)!;
    const acbKa = trust.organisations.find((organisation) => organisation.name === "Z1-accessControlBroker-ka")!;

    const found = await client.query({ eui, keyUsage: KeyUsage.keyAgreement, lookup: "certificate" });

    expect(found?.length).toBe(1);
    expect(found![0]!.certificate.raw.equals(device.ka.certificate.raw)).toBe(true);
    const acbSide = diffieHellman({ privateKey: organisationPrivateKey(acbKa.eui, "keyAgreement", acbKa.serial), publicKey: found![0]!.certificate.publicKey });
    const deviceSide = diffieHellman({ privateKey: device.ka.privateKey, publicKey: new X509Certificate(acbKa.certificateDer).publicKey });
    expect(acbSide.equals(deviceSide)).toBe(true);
  });

  test("retrieves device certificates by serial", async () => {
    const client = await openClient("by-serial");

    for (const device of devices.list()) {
      for (const pair of [device.ds, device.ka]) {
        const found = await client.query({ serial: pair.serial, lookup: "certificate" });
        expect(found?.certificate.raw.equals(pair.certificate.raw)).toBe(true);
        expect(found?.eui.toString()).toBe(device.eui);
      }
    }
  });

  test.each(trust.organisations.map((organisation) => ({ ...organisation, label: organisation.name ?? organisation.eui })))(
    "finds organisation $label",
    async (organisation) => {
      const found = await search(
        {
          q: { CertificateSubjectName: formatEuiHyphenated(organisation.eui).toLowerCase() },
          CertificateRole: String(organisation.role) as CertificateRole,
          CertificateUsage: (organisation.usage === "digitalSignature" ? "DS" : "KA") as CertificateUsage,
          CertificateStatus: "I" as CertificateStatus,
        },
        address,
      );

      const match = found.find((result) => BigInt(result.meta.serial) === organisation.serial);
      expect(match?.x509.raw.equals(Buffer.from(organisation.certificateDer))).toBe(true);
      expect(match?.meta.role).toBe(organisation.role);
      expect(match?.meta.eui.toString()).toBe(organisation.eui);
      const retrieved = await query(organisation.serial.toString(16), address);
      expect(retrieved?.x509.raw.equals(Buffer.from(organisation.certificateDer))).toBe(true);
    },
  );

  test("unknown device returns no certificates", async () => {
    const client = await openClient("unknown");

    const found = await client.query({ eui: "00db1234567890ff", keyUsage: KeyUsage.digitalSignature, lookup: "certificate" });
    const bySerial = await query("1234", address);

    expect(found).toBeNull();
    expect(bySerial).toBeNull();
  });

  test("malformed EUI raises in client", async () => {
    const request = search(
      { q: { CertificateSubjectAltName: "00-db-12" }, CertificateUsage: "DS" as CertificateUsage, CertificateStatus: "I" as CertificateStatus },
      address,
    );

    await expect(request).rejects.toThrow("invalid search parameters");
  });
});

describe("response shape", () => {
  test("search lists one DS and one KA", async () => {
    const device = devices.byEui("00db1234567890a1")!;

    const response = await post("/services/certificatesearch", searchBody("<CertificateSubjectAltName>00-db-12-34-56-78-90-a1</CertificateSubjectAltName>"));
    const text = (await response.text()).replace(/<AuditReference>[^<]+<\/AuditReference>/, "<AuditReference>*</AuditReference>");

    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/xml; charset=utf-8");
    expect(text).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><CertificateSearchResponse><ResponseCode>200</ResponseCode><ResponseMessage>Success</ResponseMessage><AuditReference>*</AuditReference>' +
        `<Result><CertificateSerial>${device.ds.serialHex}</CertificateSerial><CertificateSubjectAltName>00-DB-12-34-56-78-90-A1</CertificateSubjectAltName><CertificateStatus>I</CertificateStatus><CertificateUsage>DS</CertificateUsage><ManufacturingFlag>false</ManufacturingFlag></Result>` +
        `<Result><CertificateSerial>${device.ka.serialHex}</CertificateSerial><CertificateSubjectAltName>00-DB-12-34-56-78-90-A1</CertificateSubjectAltName><CertificateStatus>I</CertificateStatus><CertificateUsage>KA</CertificateUsage><ManufacturingFlag>false</ManufacturingFlag></Result>` +
        "</CertificateSearchResponse>",
    );
  });

  test("retrieve returns base64 DER body", async () => {
    const response = await post("/services/retrievecertificate", retrieveBody("<CertificateSerial>587FE59553E2675B0C0E2A5C402A9F61</CertificateSerial>"));
    const text = await response.text();

    expect(response.status).toBe(200);
    expect(text).toContain(
      "<CertificateResponse><CertificateSerial>587FE59553E2675B0C0E2A5C402A9F61</CertificateSerial><CertificateSubjectName>90-B3-D5-1F-30-00-00-02</CertificateSubjectName><CertificateStatus>I</CertificateStatus><CertificateRole>4</CertificateRole><CertificateUsage>DS</CertificateUsage><ManufacturingFlag>false</ManufacturingFlag>",
    );
    expect(text).toContain(`<CertificateBody>${trust.issuer.certificate.raw.toString("base64")}</CertificateBody></CertificateResponse>`);
    expect(text).toMatch(/<AuditReference>[0-9a-f-]{36}<\/AuditReference>/);
  });

  test("audit references are unique", async () => {
    const body = retrieveBody("<CertificateSerial>587FE59553E2675B0C0E2A5C402A9F61</CertificateSerial>");
    const reference = async () => (await (await post("/services/retrievecertificate", body)).text()).match(/<AuditReference>([^<]+)</)?.[1];

    const first = await reference();
    const second = await reference();

    expect(first).toBeDefined();
    expect(first).not.toBe(second);
  });
});

describe("accepted spellings", () => {
  const device = () => devices.byEui("bc33acfffefa553d")!;

  test.each([
    { name: "upper-case EUI", eui: "BC-33-AC-FF-FE-FA-55-3D" },
    { name: "lower-case EUI", eui: "bc-33-ac-ff-fe-fa-55-3d" },
    { name: "EUI without hyphens", eui: "BC33ACFFFEFA553D" },
    { name: "EUI with whitespace", eui: " bc-33-ac-ff-fe-fa-55-3d\n" },
  ])("search by $name", async ({ eui }) => {
    const response = await post("/services/certificatesearch", searchBody(`<CertificateSubjectAltName>${eui}</CertificateSubjectAltName>`));
    const text = await response.text();

    expect(response.status).toBe(200);
    expect(text).toContain(`<CertificateSerial>${device().ds.serialHex}</CertificateSerial>`);
    expect(text).toContain(`<CertificateSerial>${device().ka.serialHex}</CertificateSerial>`);
  });

  test.each([
    { name: "upper-case serial", serial: () => device().ds.serialHex },
    { name: "lower-case serial", serial: () => device().ds.serialHex.toLowerCase() },
    { name: "serial with leading zeros", serial: () => `0000${device().ds.serialHex}` },
    { name: "serial without leading zeros", serial: () => device().ds.serial.toString(16) },
  ])("retrieve by $name", async ({ serial }) => {
    const response = await post("/services/retrievecertificate", retrieveBody(`<CertificateSerial>${serial()}</CertificateSerial>`));

    expect(response.status).toBe(200);
    expect(await response.text()).toContain(`<CertificateBody>${device().ds.certificate.raw.toString("base64")}</CertificateBody>`);
  });

  test("request without apikey", async () => {
    const response = await post("/services/retrievecertificate", retrieveBody(`<CertificateSerial>${device().ka.serialHex}</CertificateSerial>`), "");

    expect(response.status).toBe(200);
  });

  test("search filtered by usage", async () => {
    const response = await post(
      "/services/certificatesearch",
      searchBody("<CertificateSubjectAltName>BC-33-AC-FF-FE-FA-55-3D</CertificateSubjectAltName><CertificateUsage>KA</CertificateUsage>"),
    );
    const text = await response.text();

    expect(response.status).toBe(200);
    expect(text).toContain(`<CertificateSerial>${device().ka.serialHex}</CertificateSerial>`);
    expect(text).not.toContain(`<CertificateSerial>${device().ds.serialHex}</CertificateSerial>`);
  });

  test("organisation search filtered by role", async () => {
    const response = await post(
      "/services/certificatesearch",
      searchBody("<CertificateSubjectName>90-B3-D5-1F-30-00-00-02</CertificateSubjectName><CertificateRole>137</CertificateRole>"),
    );
    const text = await response.text();

    expect(response.status).toBe(200);
    expect(text.match(/<Result>/g)?.length).toBe(1);
    expect(text).toContain("<CertificateSerial>7DAC7283AAD29BDD23C9EFBFDDB52A41</CertificateSerial>");
  });
});

describe("rejected requests", () => {
  const SEARCH = "/services/certificatesearch";
  const RETRIEVE = "/services/retrievecertificate";

  test.each([
    { name: "non-XML body", path: SEARCH, body: "not xml", status: 401 },
    { name: "unclosed element", path: SEARCH, body: searchBody("<CertificateSubjectAltName>00-db-12-34-56-78-90-a1"), status: 401 },
    {
      name: "external entity",
      path: SEARCH,
      body: '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><CertificateSearchRequest><CertificateSubjectAltName>&x;</CertificateSubjectAltName></CertificateSearchRequest>',
      status: 401,
    },
    { name: "wrong root element", path: SEARCH, body: retrieveBody("<CertificateSerial>01</CertificateSerial>"), status: 401 },
    { name: "search without subject", path: SEARCH, body: searchBody(""), status: 401 },
    {
      name: "search with both subjects",
      path: SEARCH,
      body: searchBody("<CertificateSubjectAltName>00-db-12-34-56-78-90-a1</CertificateSubjectAltName><CertificateSubjectName>90-b3-d5-1f-30-00-00-02</CertificateSubjectName>"),
      status: 401,
    },
    { name: "short EUI", path: SEARCH, body: searchBody("<CertificateSubjectAltName>00-db-12</CertificateSubjectAltName>"), status: 401 },
    { name: "non-hex EUI", path: SEARCH, body: searchBody("<CertificateSubjectAltName>00-db-12-34-56-78-90-zz</CertificateSubjectAltName>"), status: 401 },
    { name: "unknown usage", path: SEARCH, body: searchBody("<CertificateSubjectAltName>00db1234567890a1</CertificateSubjectAltName><CertificateUsage>XX</CertificateUsage>"), status: 401 },
    { name: "unknown element", path: SEARCH, body: searchBody("<CertificateSubjectAltName>00db1234567890a1</CertificateSubjectAltName><Foo>1</Foo>"), status: 401 },
    { name: "retrieve without serial", path: RETRIEVE, body: retrieveBody(""), status: 401 },
    { name: "empty serial", path: RETRIEVE, body: retrieveBody("<CertificateSerial></CertificateSerial>"), status: 401 },
    { name: "non-hex serial", path: RETRIEVE, body: retrieveBody("<CertificateSerial>12G4</CertificateSerial>"), status: 401 },
    { name: "41-digit serial", path: RETRIEVE, body: retrieveBody(`<CertificateSerial>${"1".repeat(41)}</CertificateSerial>`), status: 401 },
    { name: "unknown device", path: SEARCH, body: searchBody("<CertificateSubjectAltName>00-db-12-34-56-78-90-ff</CertificateSubjectAltName>"), status: 402 },
    { name: "organisation as device", path: SEARCH, body: searchBody("<CertificateSubjectAltName>90-b3-d5-1f-30-00-00-02</CertificateSubjectAltName>"), status: 402 },
    { name: "device as organisation", path: SEARCH, body: searchBody("<CertificateSubjectName>00-db-12-34-56-78-90-a1</CertificateSubjectName>"), status: 402 },
    {
      name: "device not in use",
      path: SEARCH,
      body: searchBody("<CertificateSubjectAltName>00db1234567890a1</CertificateSubjectAltName><CertificateStatus>R</CertificateStatus>"),
      status: 402,
    },
    { name: "unknown serial", path: RETRIEVE, body: retrieveBody("<CertificateSerial>0123456789ABCDEF</CertificateSerial>"), status: 402 },
    {
      name: "oversized body",
      path: SEARCH,
      body: searchBody(`<CertificateSubjectAltName>00db1234567890a1</CertificateSubjectAltName><!--${"x".repeat(SMKI_MAX_REQUEST_BYTES)}-->`),
      status: 413,
    },
  ])("$name gets $status", async ({ path, body, status }) => {
    const root = path === SEARCH ? "CertificateSearchResponse" : "CertificateDataResponse";

    const response = await post(path, body);
    const text = await response.text();

    expect(response.status).toBe(status);
    expect(response.headers.get("content-type")).toBe("application/xml; charset=utf-8");
    expect(text).toStartWith(`<?xml version="1.0" encoding="UTF-8"?><${root}><ResponseCode>${status}</ResponseCode>`);
  });

  test("GET gets 405", async () => {
    const response = await fetch(`http://${address}/services/certificatesearch`);

    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("POST");
  });
});

describe("restart", () => {
  test("reloaded service serves same certificates", async () => {
    const before = await (await openClient("before-restart")).query({ eui: "00db1234567890a2", keyUsage: KeyUsage.keyAgreement, lookup: "certificate" });
    await server.stop(true);

    server = serve(loadOrCreateDeviceCredentials(stateDir, DEVICES, trust, { log: silentLog }));
    address = `127.0.0.1:${server.port}`;
    const after = await (await openClient("after-restart")).query({ eui: "00db1234567890a2", keyUsage: KeyUsage.keyAgreement, lookup: "certificate" });

    expect(before?.length).toBe(1);
    expect(after?.length).toBe(1);
    expect(after![0]!.certificate.raw.equals(before![0]!.certificate.raw)).toBe(true);
    expect(after![0]!.certificate.raw.equals(devices.byEui("00db1234567890a2")!.ka.certificate.raw)).toBe(true);
  });
});
