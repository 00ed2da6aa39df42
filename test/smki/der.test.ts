import { describe, expect, test } from "bun:test";

import {
  DerDecodeError,
  namedBitString,
  objectIdentifier,
  readElement,
  readObjectIdentifier,
  time,
  unsignedInteger,
} from "../../provisioning/devices/der.ts";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

describe("DER encoder", () => {
  test.each([
    // Byte values from the ZAZ1 and RTDS certificates.
    { oid: "1.2.840.10045.4.3.2", expected: "06082a8648ce3d040302" },
    { oid: "1.3.6.1.5.5.7.8.4", expected: "06082b06010505070804" },
    { oid: "1.2.826.0.1.8641679.1.2.1.4", expected: "060d2a863a0001848fb90f01020104" },
    { oid: "1.2.826.0.1372.1.1.2.1", expected: "060a2a863a008a5c01010201" },
    { oid: "2.5.29.15", expected: "0603551d0f" },
  ])("OID $oid", ({ oid, expected }) => {
    expect(hex(objectIdentifier(oid))).toBe(expected);
    expect(readObjectIdentifier(readElement(objectIdentifier(oid)))).toBe(oid);
  });

  test.each([
    { value: 0n, expected: "020100" },
    { value: 2n, expected: "020102" },
    { value: 127n, expected: "02017f" },
    { value: 128n, expected: "02020080" },
    { value: 0x730c9adaead36d3057022f36c2c89de3n, expected: "0210730c9adaead36d3057022f36c2c89de3" },
    { value: 0xf4889ef197d41e9016966f9d5ab0402n, expected: "02100f4889ef197d41e9016966f9d5ab0402" },
    { value: 0x80n << 120n, expected: "0211008" + "0".repeat(31) },
  ])("INTEGER $value", ({ value, expected }) => {
    expect(hex(unsignedInteger(value))).toBe(expected);
  });

  test.each([
    { date: new Date(Date.UTC(2016, 3, 6)), expected: "170d3136303430363030303030305a" },
    { date: new Date(Date.UTC(2049, 11, 31, 23, 59, 59)), expected: "170d3439313233313233353935395a" },
    { date: new Date(Date.UTC(2050, 0, 1)), expected: "180f32303530303130313030303030305a" },
    { date: new Date(Date.UTC(9999, 11, 31, 23, 59, 59)), expected: "180f39393939313233313233353935395a" },
  ])("Time $date", ({ date, expected }) => {
    expect(hex(time(date))).toBe(expected);
  });

  test.each([
    { bit: 0, expected: "03020780" },
    { bit: 4, expected: "03020308" },
  ])("keyUsage bit $bit", ({ bit, expected }) => {
    expect(hex(namedBitString(bit))).toBe(expected);
  });

  test.each([
    { name: "negative INTEGER", encode: () => unsignedInteger(-1n) },
    { name: "one-arc OID", encode: () => objectIdentifier("1") },
    { name: "non-numeric OID", encode: () => objectIdentifier("1.2.x") },
    { name: "year 1949", encode: () => time(new Date(Date.UTC(1949, 0, 1))) },
    { name: "named bit 8", encode: () => namedBitString(8) },
  ])("$name is rejected", ({ encode }) => {
    expect(encode).toThrow(RangeError);
  });
});

describe("DER reader", () => {
  test("reads long-form length", () => {
    const content = new Uint8Array(300).fill(7);
    const encoded = Uint8Array.from([0x04, 0x82, 0x01, 0x2c, ...content]);

    const element = readElement(encoded);

    expect(element.tag).toBe(0x04);
    expect(element.content.length).toBe(300);
    expect(element.encoded.length).toBe(304);
  });

  test.each([
    { name: "empty input", bytes: [], reason: "the element header is truncated" },
    { name: "multi-octet tag", bytes: [0x1f, 0x01, 0x00], reason: "multi-octet tags are not supported" },
    { name: "indefinite length", bytes: [0x30, 0x80], reason: "a length of 0 octets is not valid DER here" },
    { name: "truncated length", bytes: [0x04, 0x82, 0x01], reason: "the length octets are truncated" },
    { name: "content overrun", bytes: [0x04, 0x05, 0x01], reason: "the element claims 5 octets but only 1 remain" },
  ])("$name is rejected", ({ bytes, reason }) => {
    const read = () => readElement(Uint8Array.from(bytes));

    expect(read).toThrow(DerDecodeError);
    expect(read).toThrow(expect.objectContaining({ offset: 0, reason }));
  });
});
