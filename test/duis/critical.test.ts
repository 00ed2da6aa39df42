import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createPrivateKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BoxedKeyStore, KeyUsage } from "@smartdcc/dccboxed-keystore";
import type { Boxd } from "../../daemon/boot.ts";
import { ResponseCode } from "../../daemon/duis/codes.ts";
import {
  decodeMessage,
  decryptProtectedAttributes,
  encodeData,
  signPreCommand,
  toHex,
  verifyGeneralSigning,
  verifyMac,
} from "../../daemon/gbcs/index.ts";
import { DSP_CERTIFICATE, readTemplate, sign, validate, ZAZ1 } from "../support/java-tool.ts";
import { postDuis, ReceiveResponseService, runBoxd, tempFolder, testConfig } from "../support/harness.ts";

const KEYSTORE = JSON.parse(readFileSync(join(ZAZ1, "keystore.json"), "utf8"));

/** A private key of the ZAZ1 organisation key store, by EUI, usage and entry name. */
function organisationKey(eui: string, usage: "digitalSignature" | "keyAgreement", name: string): KeyObject {
  const entry = Object.values(KEYSTORE[eui][usage] as Record<string, { name?: string; privateKey: string }>).find((candidate) => candidate.name === name);
  return createPrivateKey(entry!.privateKey);
}

const SUPPLIER = "90b3d51f30010000";
const SUPPLIER_DS = () => organisationKey(SUPPLIER, "digitalSignature", "Z1-supplier-ds");
const NETWORK_OPERATOR_DS = () => organisationKey("90b3d51f30020000", "digitalSignature", "Z1-networkOperator-ds");

function field(xml: string, name: string): string {
  return new RegExp(`<sr:${name}>([^<]+)<`).exec(xml)?.[1] ?? "(none)";
}

/** Turns a signed CV 4 request into the CV 5 request that returns `signedPreCommand` with the same RequestID. */
function signedPreCommandRequest(transformRequest: string, signedPreCommand: Uint8Array): string {
  const unsigned = transformRequest.replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, "");
  return unsigned
    .replace(/<sr:CommandVariant>4<\/sr:CommandVariant>/, "<sr:CommandVariant>5</sr:CommandVariant>")
    .replace(/<sr:Body>[\s\S]*<\/sr:Body>/, `<sr:Body><sr:SignedPreCommand><sr:GBCSPayload>${Buffer.from(signedPreCommand).toString("base64")}</sr:GBCSPayload></sr:SignedPreCommand></sr:Body>`);
}

const folder = tempFolder("critical");
const receiver = new ReceiveResponseService();
let boxd: Boxd;
let keyStore: BoxedKeyStore;

beforeAll(async () => {
  receiver.start();
  boxd = await runBoxd(testConfig(folder.path, { BOXD_RECEIVER_URL: receiver.url }));
  keyStore = await BoxedKeyStore.new(`127.0.0.1:${boxd.ports.smki}`, join(folder.path, "client-keystore.json"));
});

afterAll(async () => {
  await keyStore.cleanup();
  await boxd.stop();
  receiver.stop();
  folder[Symbol.dispose]();
});

/** CV 4 through the Transform Service: returns the signed request and the pre-command. */
async function transformTemplate(template: string): Promise<{ request: string; preCommand: Uint8Array }> {
  const request = await sign(readTemplate(template));
  const answer = await (await postDuis(boxd.ports.duis, "T", request)).text();
  expect(field(answer, "ResponseCode")).toBe(ResponseCode.success);
  expect(field(answer, "GBCSVersion")).toBe("4.2");
  expect((await validate(answer, DSP_CERTIFICATE)).exitCode).toBe(0);

  const preCommand = new Uint8Array(Buffer.from(field(answer, "GBCSPayload"), "base64"));
  expect(preCommand[0]).toBe(0xdf);
  expect(preCommand.at(-1)).toBe(0x00);
  return { request, preCommand };
}

/** Returns a device's certificate public key as a DCC Boxed client finds it over SMKI. */
async function deviceKey(eui: string, keyUsage: KeyUsage): Promise<KeyObject> {
  const found = await keyStore.query({ eui, keyUsage, lookup: "certificate" });
  expect(found?.length).toBe(1);
  return found![0]!.certificate.publicKey;
}

describe.each([
  ["SRV 6.11 ECS70 synchronise clock", "ECS70_6.11_SUCCESS_REQUEST_DUIS.XML", 0x0062],
  ["SRV 1.6 ECS02 payment mode", "ECS02_1.6_IMMEDIATE_SINGLE_SUCCESS_REQUEST_DUIS.XML", 0x001a],
])("%s", (_, template, messageCode) => {
  test("transform, sign, send, receive the device-signed response", async () => {
    const { request, preCommand } = await transformTemplate(template);
    const cv5 = await sign(signedPreCommandRequest(request, signPreCommand(preCommand, SUPPLIER_DS())), true);
    const before = receiver.received.length;

    const ack = await (await postDuis(boxd.ports.duis, "S", cv5)).text();
    expect(field(ack, "ResponseCode")).toBe(ResponseCode.acknowledged);

    const [response] = (await receiver.waitFor(before + 1)).slice(before);
    expect((await validate(response!, DSP_CERTIFICATE)).exitCode).toBe(0);
    expect(field(response!, "RequestID")).toBe(field(request, "RequestID"));
    const gbcs = decodeMessage(Buffer.from(field(response!, "GBCSPayload"), "base64"));
    expect(gbcs.mac).toBeUndefined();
    expect(gbcs.apdu.otherInfo.messageCode).toBe(messageCode);
    expect(gbcs.apdu.signature.form).toBe("ecdsa");
    verifyGeneralSigning(gbcs, await deviceKey("00-db-12-34-56-78-90-a0", KeyUsage.digitalSignature));
  });

  test("pre-command signed with another user's key is E1", async () => {
    const { request, preCommand } = await transformTemplate(template);
    const cv5 = await sign(signedPreCommandRequest(request, signPreCommand(preCommand, NETWORK_OPERATOR_DS())), true);

    const answer = await (await postDuis(boxd.ports.duis, "S", cv5)).text();
    expect(field(answer, "ResponseCode")).toBe(ResponseCode.notAuthenticated);
  });

  test("pre-command with a tampered byte is E1", async () => {
    const { request, preCommand } = await transformTemplate(template);
    const signed = signPreCommand(preCommand, SUPPLIER_DS());
    signed[40] = signed[40]! ^ 0x01;
    const cv5 = await sign(signedPreCommandRequest(request, signed), true);

    const answer = await (await postDuis(boxd.ports.duis, "S", cv5)).text();
    expect(field(answer, "ResponseCode")).toBe(ResponseCode.notAuthenticated);
  });
});

describe("SRV 4.1.1 ECS17b", () => {
  test("supplier decrypts the protected import registers", async () => {
    const before = receiver.received.length;
    const ack = await (await postDuis(boxd.ports.duis, "S", await sign(readTemplate("ECS17b_4.1.1_SINGLE_SUCCESS_REQUEST_DUIS.XML")))).text();
    expect(field(ack, "ResponseCode")).toBe(ResponseCode.acknowledged);

    const [response] = (await receiver.waitFor(before + 1)).slice(before);
    expect((await validate(response!, DSP_CERTIFICATE)).exitCode).toBe(0);
    const gbcs = decodeMessage(Buffer.from(field(response!, "GBCSPayload"), "base64"));
    const deviceKa = await deviceKey("00-db-12-34-56-78-90-a0", KeyUsage.keyAgreement);
    verifyMac(gbcs, { privateKey: organisationKey(SUPPLIER, "keyAgreement", "Z1-supplier-ka"), publicKey: deviceKa });

    const values = decryptProtectedAttributes(gbcs.apdu, {
      remoteKaPrivateKey: organisationKey(SUPPLIER, "keyAgreement", "Z1-supplier-ka"),
      deviceKaPublicKey: deviceKa,
    });
    // structure { structure { active Wh, {0, Wh}, reactive varh, {0, varh} } }
    expect(toHex(encodeData(values))).toMatch(/^0201020406[0-9A-F]{8}02020F00161E06[0-9A-F]{8}02020F001620$/);
  });
});
