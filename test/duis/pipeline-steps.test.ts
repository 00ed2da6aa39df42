import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { XmlC14NMode, XmlDocument, type XmlElement } from "libxml2-wasm";
import { checkEligibility, DEFAULT_USER_ROLES, serviceVariant, type UserRole } from "../../daemon/duis/access.ts";
import { isXmlContentType, readCappedBody } from "../../daemon/duis/body.ts";
import { canonicalizeSignedInfo } from "../../daemon/duis/c14n.ts";
import { ResponseCode } from "../../daemon/duis/codes.ts";
import { TransportFault } from "../../daemon/duis/errors.ts";
import { formatEui, parseEui, type Eui } from "../../daemon/duis/eui.ts";
import { ReplayRule } from "../../daemon/duis/replay.ts";
import { checkCommandVariant } from "../../daemon/duis/variant.ts";
import { TEMPLATES } from "../support/java-tool.ts";
import { parseUntrusted } from "../../daemon/duis/xml.ts";
import { DuisRejection } from "../../daemon/duis/errors.ts";

const SUPPLIER = "90B3D51F30010000" as Eui;
const ESME = "00DB1234567890A0" as Eui;

describe("EUI", () => {
  test.each([
    ["00-DB-12-34-56-78-90-A0", "00DB1234567890A0"],
    ["00-db-12-34-56-78-90-a0", "00DB1234567890A0"],
    ["00db1234567890a0", "00DB1234567890A0"],
  ])("parses %s", (text, expected) => {
    expect(parseEui(text) as string).toBe(expected);
  });

  test("formats hyphenated upper case", () => {
    expect(formatEui(ESME)).toBe("00-DB-12-34-56-78-90-A0");
  });

  test("rejects seven pairs", () => {
    expect(() => parseEui("00-DB-12-34-56-78-90")).toThrow('invalid EUI-64 "00-DB-12-34-56-78-90"');
  });
});

describe("replay rule", () => {
  test("accepts increasing counters per originator", () => {
    const rule = new ReplayRule();
    rule.accept(SUPPLIER, ESME, 10n, 1);

    expect(rule.check(SUPPLIER, ESME, 11n, 1)).toBeUndefined();
    expect(rule.check("90B3D51F30020000" as Eui, ESME, 1n, 1)).toBeUndefined();
  });

  test.each([
    ["equal counter", 10n, `RequestID counter 10 from ${SUPPLIER} is not greater than the last accepted 10`],
    ["lower counter", 9n, `RequestID counter 9 from ${SUPPLIER} is not greater than the last accepted 10`],
  ])("rejects %s", (_, counter, reason) => {
    const rule = new ReplayRule();
    rule.accept(SUPPLIER, ESME, 10n, 1);

    expect(rule.check(SUPPLIER, ESME, counter, 1)).toBe(reason);
  });

  test("CV 5 repeats its CV 4 counter once", () => {
    const rule = new ReplayRule();
    rule.accept(SUPPLIER, ESME, 20n, 4);

    expect(rule.check(SUPPLIER, ESME, 20n, 5)).toBeUndefined();
    rule.accept(SUPPLIER, ESME, 20n, 5);
    expect(rule.check(SUPPLIER, ESME, 20n, 5)).toBe(`CV 5 RequestID counter 20 does not match an open CV 4 transform from ${SUPPLIER} to ${ESME}`);
  });

  test("state survives JSON", () => {
    const rule = new ReplayRule();
    rule.accept(SUPPLIER, ESME, 2n ** 63n, 4);

    const restored = ReplayRule.fromJSON(JSON.parse(JSON.stringify(rule.toJSON())));

    expect(restored.check(SUPPLIER, ESME, 2n ** 63n, 1)).toBeDefined();
    expect(restored.check(SUPPLIER, ESME, 2n ** 63n, 5)).toBeUndefined();
  });
});

describe("access control", () => {
  const users = new Map(Object.entries(DEFAULT_USER_ROLES) as Array<[Eui, UserRole[]]>);

  test("supplier may read inventory", () => {
    expect(checkEligibility(users, SUPPLIER, serviceVariant("8.2")!)).toBeUndefined();
  });

  test("network operator may not change payment mode", () => {
    expect(checkEligibility(users, "90B3D51F30020000" as Eui, serviceVariant("1.6")!)).toBe(
      "user 90B3D51F30020000 holds roles [ED, GT], none eligible for SRV 1.6 (eligible: IS, GS)",
    );
  });

  test("6.20 variants keep their service reference", () => {
    expect(serviceVariant("6.20.1")?.serviceReference).toBe("6.20");
    expect(serviceVariant("6.2.1")?.serviceReference).toBe("6.2");
  });

  test("unknown user holds no role", () => {
    expect(checkEligibility(users, "F0B3D51F30010000" as Eui, serviceVariant("8.2")!)).toContain("holds roles []");
  });
});

describe("command variant against endpoint", () => {
  test.each([
    ["CV 8 on serviceD for 8.2", 8, "D", "8.2", undefined],
    ["CV 1 on serviceS for 11.2", 1, "S", "11.2", undefined],
    ["CV 4 on serviceT for 6.11", 4, "T", "6.11", undefined],
    ["CV 5 on serviceS for 6.11", 5, "S", "6.11", undefined],
    ["CV 3", 3, "S", "11.2", ResponseCode.invalidCommandVariant],
    ["CV 7", 7, "S", "6.11", ResponseCode.invalidCommandVariant],
    ["CV 1 on serviceD", 1, "D", "11.2", ResponseCode.wrongWebService],
    ["CV 4 on serviceS", 4, "S", "6.11", ResponseCode.wrongWebService],
    ["CV 1 for a critical SRV", 1, "S", "6.11", ResponseCode.invalidCommandVariant],
    ["CV 4 for a non-critical SRV", 4, "T", "11.2", ResponseCode.invalidCommandVariant],
    ["CV 8 for a device SRV", 8, "D", "11.2", ResponseCode.invalidCommandVariant],
  ] as const)("%s", (_, commandVariant, endpoint, srv, code) => {
    expect(checkCommandVariant(commandVariant, endpoint, serviceVariant(srv)!)?.code).toBe(code);
  });
});

describe("body cap", () => {
  const request = (body: string | ReadableStream, headers: Record<string, string> = {}) =>
    new Request("http://127.0.0.1/api/v1/serviceD", { method: "POST", body, headers });

  test("reads a body under the cap", async () => {
    expect((await readCappedBody(request("<a/>"), 10)).length).toBe(4);
  });

  test("refuses a declared length over the cap", async () => {
    const error = await readCappedBody(request("x".repeat(20), { "content-length": "20" }), 10).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(TransportFault);
    expect((error as TransportFault).status).toBe(413);
  });

  test("stops a streamed body at the cap", async () => {
    let pulled = 0;
    const endless = new ReadableStream({
      pull(controller) {
        pulled++;
        controller.enqueue(new Uint8Array(8));
      },
    });

    const error = await readCappedBody(request(endless), 64).catch((caught: unknown) => caught);

    expect((error as TransportFault).status).toBe(413);
    expect(pulled).toBeLessThan(20);
  });

  test.each([
    ["application/xml", true],
    ["application/xml; charset=utf-8", true],
    ["Application/XML", true],
    ["text/xml", false],
    [null, false],
  ])("content type %s", (header, expected) => {
    expect(isXmlContentType(header)).toBe(expected);
  });
});

describe("SignedInfo canonicalization", () => {
  test.each(readdirSync(TEMPLATES).slice(0, 40))("matches libxml2 exc-c14n for %s", (name) => {
    const doc = XmlDocument.fromBuffer(readFileSync(join(TEMPLATES, name)));
    try {
      const signedInfo = doc.get("//*[local-name()='SignedInfo']") as XmlElement;

      expect(canonicalizeSignedInfo(signedInfo)).toBe(signedInfo.canonicalizeToString({ mode: XmlC14NMode.XML_C14N_EXCLUSIVE_1_0 }));
    } finally {
      doc.dispose();
    }
  });

  test("falls back on a foreign element", () => {
    const doc = XmlDocument.fromString(
      '<r xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:x="urn:x"><ds:SignedInfo><x:y/></ds:SignedInfo></r>',
    );
    try {
      expect(canonicalizeSignedInfo(doc.get("//*[local-name()='SignedInfo']") as XmlElement)).toBeUndefined();
    } finally {
      doc.dispose();
    }
  });
});

describe("forbidden markup", () => {
  const parse = (xml: string) => {
    try {
      parseUntrusted(new TextEncoder().encode(xml)).dispose();
      return "parsed";
    } catch (error) {
      return error instanceof DuisRejection ? error.reason : String(error);
    }
  };

  test.each([
    ["DOCTYPE in lower case", '<?xml version="1.0"?><!doctype r><r/>', "request contains a DOCTYPE declaration, which DUIS does not allow"],
    ["ENTITY declaration", "<r><!ENTITY x 'y'></r>", "request contains an ENTITY declaration, which DUIS does not allow"],
    ["processing instruction", "<r><?php echo 1 ?></r>", "request contains a processing instruction, which DUIS does not allow"],
    ["stylesheet instruction", '<?xml-stylesheet href="x"?><r/>', "request contains a processing instruction, which DUIS does not allow"],
    ["XML declaration", '<?xml version="1.0" encoding="UTF-8"?><r/>', "parsed"],
    ["comment", "<r><!-- note --></r>", "parsed"],
    ["CDATA section", "<r><![CDATA[a < b]]></r>", "parsed"],
  ])("%s", (_, xml, expected) => {
    expect(parse(xml)).toBe(expected);
  });
});
