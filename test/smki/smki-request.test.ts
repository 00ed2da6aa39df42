import { describe, expect, test } from "bun:test";

import { SmkiRequestError } from "../../daemon/smki/index.ts";
import { parseRetrieveRequest, parseSearchRequest } from "../../daemon/smki/xml.ts";

function search(inner: string): string {
  return `<?xml version="1.0" encoding="utf-8"?><CertificateSearchRequest>${inner}</CertificateSearchRequest>`;
}

function retrieve(inner: string): string {
  return `<?xml version="1.0" encoding="utf-8"?><CertificateDataRequest>${inner}</CertificateDataRequest>`;
}

describe("search request parser", () => {
  test.each([
    { name: "client device search", body: search("<CertificateSubjectAltName>00-db-12-34-56-78-90-a4</CertificateSubjectAltName>"), expected: { subjectAltName: "00db1234567890a4" } },
    {
      name: "organisation search with filters",
      body: search("<CertificateSubjectName>90-B3-D5-1F-30-01-00-00</CertificateSubjectName><CertificateRole>2</CertificateRole><CertificateUsage>KA</CertificateUsage><CertificateStatus>I</CertificateStatus>"),
      expected: { subjectName: "90b3d51f30010000", role: 2, usage: "KA", status: "I" },
    },
    {
      name: "namespace prefix",
      body: '<s:CertificateSearchRequest xmlns:s="urn:x"><s:CertificateSubjectAltName>00DB1234567890A4</s:CertificateSubjectAltName></s:CertificateSearchRequest>',
      expected: { subjectAltName: "00db1234567890a4" },
    },
  ])("$name parses", ({ body, expected }) => {
    expect(parseSearchRequest(body)).toEqual(expected as never);
  });

  test.each([
    { name: "DOCTYPE", body: '<!DOCTYPE a [<!ENTITY b "c">]>' + search(""), field: "body", value: undefined, reason: /^DOCTYPE and ENTITY declarations are not accepted/ },
    { name: "malformed XML", body: "<CertificateSearchRequest>", field: "body", value: undefined, reason: /^it is not well-formed XML/ },
    { name: "wrong root", body: retrieve(""), field: "body", value: undefined, reason: /^the root element must be CertificateSearchRequest, found CertificateDataRequest$/ },
    { name: "text root", body: "<CertificateSearchRequest>x</CertificateSearchRequest>", field: "CertificateSearchRequest", value: undefined, reason: /^it must contain child elements/ },
    { name: "no subject", body: search(""), field: "CertificateSearchRequest", value: undefined, reason: /^it needs exactly one of/ },
    {
      name: "duplicate subject",
      body: search("<CertificateSubjectAltName>00db1234567890a4</CertificateSubjectAltName><CertificateSubjectAltName>00db1234567890a4</CertificateSubjectAltName>"),
      field: "CertificateSubjectAltName",
      value: undefined,
      reason: /^the element appears more than once$/,
    },
    { name: "nested subject", body: search("<CertificateSubjectAltName><a>1</a></CertificateSubjectAltName>"), field: "CertificateSubjectAltName", value: undefined, reason: /^the element must contain text only$/ },
    { name: "unknown element", body: search("<Serial>1</Serial>"), field: "Serial", value: undefined, reason: /^it is not an element of CertificateSearchRequest/ },
    { name: "bad EUI", body: search("<CertificateSubjectAltName>00-db-12-34-56-78-90</CertificateSubjectAltName>"), field: "CertificateSubjectAltName", value: "00-db-12-34-56-78-90", reason: /^expected an EUI-64/ },
    { name: "mixed hyphens", body: search("<CertificateSubjectName>90b3-d51f-3001-0000</CertificateSubjectName>"), field: "CertificateSubjectName", value: "90b3-d51f-3001-0000", reason: /^expected an EUI-64/ },
    { name: "bad usage", body: search("<CertificateSubjectAltName>00db1234567890a4</CertificateSubjectAltName><CertificateUsage>XA</CertificateUsage>"), field: "CertificateUsage", value: "XA", reason: /^expected one of DS, KA$/ },
    { name: "bad status", body: search("<CertificateSubjectAltName>00db1234567890a4</CertificateSubjectAltName><CertificateStatus>Q</CertificateStatus>"), field: "CertificateStatus", value: "Q", reason: /^expected one of P, I, N, E, R$/ },
    { name: "role too large", body: search("<CertificateSubjectName>90b3d51f30010000</CertificateSubjectName><CertificateRole>256</CertificateRole>"), field: "CertificateRole", value: "256", reason: /^expected a decimal role from 0 to 255$/ },
    { name: "role not decimal", body: search("<CertificateSubjectName>90b3d51f30010000</CertificateSubjectName><CertificateRole>0x2</CertificateRole>"), field: "CertificateRole", value: "0x2", reason: /^expected a decimal role/ },
  ])("$name is rejected", ({ body, field, value, reason }) => {
    const parse = () => parseSearchRequest(body);

    expect(parse).toThrow(SmkiRequestError);
    expect(parse).toThrow(expect.objectContaining({ field, value, reason: expect.stringMatching(reason), status: 401 }));
  });
});

describe("retrieve request parser", () => {
  test.each([
    { name: "upper case", serial: "469AFEC2E7C0CAAEC8A400769B702BC8", expected: 0x469afec2e7c0caaec8a400769b702bc8n },
    { name: "lower case", serial: "469afec2e7c0caaec8a400769b702bc8", expected: 0x469afec2e7c0caaec8a400769b702bc8n },
    { name: "leading zeros", serial: "000F4889EF197D41E9016966F9D5AB0402", expected: 0xf4889ef197d41e9016966f9d5ab0402n },
    { name: "40 digits", serial: "F".repeat(40), expected: (1n << 160n) - 1n },
  ])("$name serial parses", ({ serial, expected }) => {
    expect(parseRetrieveRequest(retrieve(`<CertificateSerial>${serial}</CertificateSerial>`))).toEqual({ serial: expected, serialText: serial });
  });

  test.each([
    { name: "missing serial", inner: "", field: "CertificateSerial", value: undefined, reason: /^the element is missing$/ },
    { name: "empty serial", inner: "<CertificateSerial/>", field: "CertificateSerial", value: "", reason: /^expected 1 to 40 hex digits$/ },
    { name: "hex prefix", inner: "<CertificateSerial>0x12</CertificateSerial>", field: "CertificateSerial", value: "0x12", reason: /^expected 1 to 40 hex digits$/ },
    { name: "negative serial", inner: "<CertificateSerial>-12</CertificateSerial>", field: "CertificateSerial", value: "-12", reason: /^expected 1 to 40 hex digits$/ },
    { name: "41 digits", inner: `<CertificateSerial>${"F".repeat(41)}</CertificateSerial>`, field: "CertificateSerial", value: "F".repeat(41), reason: /^expected 1 to 40 hex digits$/ },
  ])("$name is rejected", ({ inner, field, value, reason }) => {
    const parse = () => parseRetrieveRequest(retrieve(inner));

    expect(parse).toThrow(SmkiRequestError);
    expect(parse).toThrow(expect.objectContaining({ field, value, reason: expect.stringMatching(reason) }));
  });

  test("long value is shortened in message", () => {
    const serial = "Z".repeat(500);

    const parse = () => parseRetrieveRequest(retrieve(`<CertificateSerial>${serial}</CertificateSerial>`));

    expect(parse).toThrow(`CertificateSerial "${"Z".repeat(64)}…" is invalid: expected 1 to 40 hex digits.`);
  });
});
