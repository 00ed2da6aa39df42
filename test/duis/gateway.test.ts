import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { parseDuis } from "@smartdcc/duis-parser";
import { ResponseCode } from "../../daemon/duis/codes.ts";
import { DSP_CERTIFICATE, readTemplate, sign, signWith, validate } from "../support/java-tool.ts";
import { postDuis, ReceiveResponseService, runBoxd, tempFolder, testConfig } from "../support/harness.ts";
import type { Boxd } from "../../daemon/boot.ts";

const READ_INVENTORY = "8.2_READ_INVENTORY_REQUEST_DUIS.XML";
const READ_FIRMWARE = "ECS52_11.2_SUCCESS_REQUEST_DUIS.XML";

/** Returns the ResponseCode of a DUIS response body. */
function responseCode(xml: string): string {
  return /<sr:ResponseCode>([^<]+)</.exec(xml)?.[1] ?? "(none)";
}

function withCommandVariant(xml: string, commandVariant: number): string {
  return xml.replace(/<sr:CommandVariant>\d<\/sr:CommandVariant>/, `<sr:CommandVariant>${commandVariant}</sr:CommandVariant>`);
}

function withoutSignature(xml: string): string {
  return xml.replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, "");
}

const folder = tempFolder("gateway");
const receiver = new ReceiveResponseService();
let boxd: Boxd;
let port: number;

beforeAll(async () => {
  receiver.start();
  boxd = await runBoxd(testConfig(folder.path, { BOXD_RECEIVER_URL: receiver.url }));
  port = boxd.ports.duis;
});

afterAll(async () => {
  await boxd.stop();
  receiver.stop();
  folder[Symbol.dispose]();
});

describe("signed round trips with the DCC Boxed signing tool", () => {
  test("8.2 read inventory answers I0 with the HAN", async () => {
    const response = await postDuis(port, "D", await sign(readTemplate(READ_INVENTORY)));
    const body = await response.text();

    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toStartWith("application/xml");
    const validation = await validate(body, DSP_CERTIFICATE);
    expect(validation.messages).toContain("passed signature check");
    expect(validation.exitCode).toBe(0);

    const parsed = parseDuis("simplified", validation.xml);
    expect(parsed.header).toMatchObject({ type: "response", responseCode: "I0" });
    const devices = (parsed.body as { ResponseMessage: { DSPInventory: { Device: Array<{ DeviceID: string; DeviceType: string }> } } })
      .ResponseMessage.DSPInventory.Device;
    expect(devices.map((device) => `${device.DeviceID} ${device.DeviceType}`)).toContain("00-DB-12-34-56-78-90-A2 CHF");
    expect(devices.map((device) => device.DeviceType)).toEqual(["ESME", "GSME", "CHF", "GPF", "PPMID", "HCALCS", "HCALCS"]);
  });

  test("8.2 for an unknown device answers E080201", async () => {
    const unknownDevice = readTemplate(READ_INVENTORY).replace("00-DB-12-34-56-78-90-A2</sr:DeviceID>", "00-DB-12-34-56-78-90-FF</sr:DeviceID>");
    const body = await (await postDuis(port, "D", await sign(unknownDevice))).text();

    expect(responseCode(body)).toBe(ResponseCode.noInventoryMatch);
    expect((await validate(body, DSP_CERTIFICATE)).exitCode).toBe(0);
  });

  test("11.2 read firmware answers I99, then a signed I0 reaches the receiver", async () => {
    const request = await sign(readTemplate(READ_FIRMWARE));
    const requestId = /<sr:RequestID>([^<]+)</.exec(request)![1]!;
    const before = receiver.received.length;

    const acknowledgement = await (await postDuis(port, "S", request)).text();
    expect(responseCode(acknowledgement)).toBe(ResponseCode.acknowledged);

    const [asyncResponse] = (await receiver.waitFor(before + 1)).slice(before);
    const validation = await validate(asyncResponse!, DSP_CERTIFICATE);
    expect(validation.exitCode).toBe(0);
    const parsed = parseDuis("simplified", validation.xml);
    expect(parsed.header).toMatchObject({ type: "response", responseCode: "I0" });
    const header = parsed.header as { requestId: { originatorId: string; targetId: string; counter: bigint } };
    const { originatorId, targetId, counter } = header.requestId;
    expect(`${originatorId}:${targetId}:${counter}`.toUpperCase()).toBe(requestId.toUpperCase());

    // The GBCS payload is the ESME's ECS52 response: DUIS counter echoed, firmware 01 23 AB CD.
    const payload = Buffer.from(/<sr:GBCSPayload>([^<]+)</.exec(asyncResponse!)![1]!, "base64").toString("hex").toUpperCase();
    expect(payload).toStartWith("DD");
    expect(payload).toContain("0800DB1234567890A00890B3D51F30010000");
    expect(payload).toContain("09040123ABCD");
  });
});

describe("rejections", () => {
  test("unsigned request is E1", async () => {
    const body = await (await postDuis(port, "D", withoutSignature(readTemplate(READ_INVENTORY)))).text();
    expect(responseCode(body)).toBe(ResponseCode.notAuthenticated);
  });

  test("template placeholder signature is E1", async () => {
    const body = await (await postDuis(port, "D", readTemplate(READ_INVENTORY))).text();
    expect(responseCode(body)).toBe(ResponseCode.notAuthenticated);
  });

  test("tampered SignatureValue is E1", async () => {
    const signed = await sign(readTemplate(READ_INVENTORY));
    const tampered = signed.replace(/<ds:SignatureValue>(.)/, (_, first: string) => `<ds:SignatureValue>${first === "A" ? "B" : "A"}`);

    const body = await (await postDuis(port, "D", tampered)).text();
    expect(responseCode(body)).toBe(ResponseCode.notAuthenticated);
  });

  test("changed body under a valid signature is E1", async () => {
    const signed = await sign(readTemplate(READ_INVENTORY));
    const changed = signed.replace("90-A2</sr:DeviceID>", "90-A0</sr:DeviceID>");

    const body = await (await postDuis(port, "D", changed)).text();
    expect(responseCode(body)).toBe(ResponseCode.notAuthenticated);
  });

  test("signature wrapped around a copy of the body is E1", async () => {
    const signed = await sign(readTemplate(READ_INVENTORY));
    const originalBody = /<sr:Body>[\s\S]*<\/sr:Body>/.exec(signed)![0];
    // The signed body moves into a ds:Object and a forged body takes its place.
    const wrapped = signed
      .replace(originalBody, originalBody.replace("90-A2</sr:DeviceID>", "90-A0</sr:DeviceID>"))
      .replace("</ds:KeyInfo>", `</ds:KeyInfo><ds:Object>${originalBody}</ds:Object>`);

    const body = await (await postDuis(port, "D", wrapped)).text();
    expect(responseCode(body)).toBe(ResponseCode.notAuthenticated);
  });

  test("second signature is E100 by the schema", async () => {
    const signed = await sign(readTemplate(READ_INVENTORY));
    const signature = /<ds:Signature>[\s\S]*<\/ds:Signature>/.exec(signed)![0];
    const doubled = signed.replace(signature, `${signature}${signature}`);

    const body = await (await postDuis(port, "D", doubled)).text();
    expect(responseCode(body)).toBe(ResponseCode.malformedRequest);
  });

  test("ID-based reference is E1", async () => {
    const signed = await sign(readTemplate(READ_INVENTORY));
    const idReference = signed.replace('<ds:Reference URI="">', '<ds:Reference URI="#body">');

    const body = await (await postDuis(port, "D", idReference)).text();
    expect(responseCode(body)).toBe(ResponseCode.notAuthenticated);
  });

  test("unknown originator signing with its own key is E1", async () => {
    using keys = tempFolder("unknown-user");
    const key = `${keys.path}/user.key`;
    const certificate = `${keys.path}/user.pem`;
    const openssl = Bun.spawnSync(
      ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", certificate, "-subj", "/OU=02", "-days", "2"],
      { stderr: "pipe" },
    );
    expect(openssl.exitCode).toBe(0);
    const request = readTemplate(READ_INVENTORY).replace("90-B3-D5-1F-30-01-00-00:", "F0-B3-D5-1F-30-01-00-00:");

    const body = await (await postDuis(port, "D", await signWith(request, certificate, key))).text();
    expect(responseCode(body)).toBe(ResponseCode.notAuthenticated);
  });

  test("schema-invalid body is E100", async () => {
    const invalid = readTemplate(READ_INVENTORY).replaceAll("sr:RequestID>", "sr:ReqxuestID>");
    const body = await (await postDuis(port, "D", invalid)).text();
    expect(responseCode(body)).toBe(ResponseCode.malformedRequest);
  });

  test("DOCTYPE with an external entity is E100 and reads no file", async () => {
    const xxe = readTemplate(READ_INVENTORY)
      .replace('<?xml version="1.0" encoding="UTF-8"?>', '<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/hostname">]>')
      .replace("00-DB-12-34-56-78-90-A2</sr:DeviceID>", "&x;</sr:DeviceID>");
    const body = await (await postDuis(port, "D", xxe)).text();
    expect(responseCode(body)).toBe(ResponseCode.malformedRequest);
  });

  test("entity-expansion bomb is E100", async () => {
    const entities = Array.from({ length: 9 }, (_, i) => `<!ENTITY l${i + 1} "${`&l${i};`.repeat(10)}">`).join("");
    const bomb = readTemplate(READ_INVENTORY)
      .replace('<?xml version="1.0" encoding="UTF-8"?>', `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY l0 "lol">${entities}]>`)
      .replace("00-DB-12-34-56-78-90-A2</sr:DeviceID>", "&l9;</sr:DeviceID>");
    const body = await (await postDuis(port, "D", bomb)).text();
    expect(responseCode(body)).toBe(ResponseCode.malformedRequest);
  });

  test("body over the cap is HTTP 413", async () => {
    const response = await postDuis(port, "D", new Uint8Array(boxd.config.duis.maxBodyBytes + 1));
    expect(response.status).toBe(413);
  });

  test("streamed body over the cap is HTTP 413", async () => {
    const chunk = new Uint8Array(64 * 1024).fill(0x20);
    let sent = 0;
    const stream = new ReadableStream({
      pull(controller) {
        if (sent > boxd.config.duis.maxBodyBytes) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const response = await fetch(`http://127.0.0.1:${port}/api/v1/serviceD`, {
      method: "POST",
      headers: { "Content-Type": "application/xml" },
      body: stream,
    });
    expect(response.status).toBe(413);
  });

  test("replayed counter is E1", async () => {
    const signed = await sign(readTemplate(READ_INVENTORY));
    expect(responseCode(await (await postDuis(port, "D", signed)).text())).toBe(ResponseCode.success);

    const body = await (await postDuis(port, "D", signed)).text();
    expect(responseCode(body)).toBe(ResponseCode.notAuthenticated);
  });

  test("CV 3 is E12", async () => {
    const body = await (await postDuis(port, "S", await sign(withCommandVariant(readTemplate(READ_FIRMWARE), 3)))).text();
    expect(responseCode(body)).toBe(ResponseCode.invalidCommandVariant);
  });

  test("CV 1 posted to serviceD is E13", async () => {
    const body = await (await postDuis(port, "D", await sign(readTemplate(READ_FIRMWARE)))).text();
    expect(responseCode(body)).toBe(ResponseCode.wrongWebService);
    expect((await validate(body, DSP_CERTIFICATE)).exitCode).toBe(0);
  });

  test("GET is HTTP 405", async () => {
    const response = await fetch(`http://127.0.0.1:${port}/api/v1/serviceD`);
    expect(response.status).toBe(405);
  });

  test("text/plain is HTTP 415", async () => {
    const response = await postDuis(port, "D", readTemplate(READ_INVENTORY), "text/plain");
    expect(response.status).toBe(415);
  });
});

describe("response signer serial", () => {
  test("1.4.1 serial validates without naming the certificate", async () => {
    using state = tempFolder("older-serial");
    await using older = await runBoxd(
      testConfig(state.path, {
        BOXD_DUIS_RESPONSE_SIGNER_SERIAL: "167048897159233642262001557408276884033",
        BOXD_DUIS_VALIDATE_SIGNATURES: "false",
      }),
    );
    const body = await (await postDuis(older.ports.duis, "D", withoutSignature(readTemplate(READ_INVENTORY)))).text();

    expect(body).toContain("<ds:X509SerialNumber>167048897159233642262001557408276884033</ds:X509SerialNumber>");
    const validation = await validate(body);
    expect(validation.messages).toContain("passed signature check");
    expect(validation.exitCode).toBe(0);
  });
});
