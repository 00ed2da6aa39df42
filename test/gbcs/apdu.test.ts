import { describe, expect, test } from "bun:test";
import {
  CraFlag,
  decodeGeneralCiphering,
  decodeGeneralSigning,
  decodeMessage,
  encodeGeneralCiphering,
  encodeGeneralSigning,
  encodeOtherInformation,
  fromHex,
  GbcsDecodeError,
  type GeneralSigning,
  GbcsUsageError,
  parseEui64,
  toHex,
} from "../../daemon/gbcs/index.ts";
import { ByteReader, encodeBerLength } from "../../daemon/gbcs/bytes.ts";
import { caught, ESME_A0, readVector, SUPPLIER } from "./fixtures.ts";

const base: GeneralSigning = {
  cra: CraFlag.command,
  originatorCounter: 0x0000000100000000n,
  originator: parseEui64(SUPPLIER),
  recipient: parseEui64(ESME_A0),
  dateTime: undefined,
  otherInfo: { messageCode: 0x0059 },
  content: fromHex("D9200003E8000101000100000002 01FF0201 00"),
  signature: { form: "empty" },
};

describe("BER length", () => {
  test.each([
    [0, "00"],
    [0x7f, "7F"],
    [0x80, "8180"],
    [0xff, "81FF"],
    [0x100, "820100"],
    [0xffff, "82FFFF"],
  ])("%i encodes as %s and decodes back", (length, hex) => {
    expect(toHex(encodeBerLength(length))).toBe(hex);
    expect(new ByteReader(fromHex(hex), "test").berLength("length")).toBe(length);
  });

  test.each([
    ["80", "indefinite length"],
    ["83010000", "3 octets"],
    ["81", "remain"],
  ])("%s is rejected", (hex, detail) => {
    const error = caught(() => new ByteReader(fromHex(hex), "test").berLength("length"));

    expect(error).toBeInstanceOf(GbcsDecodeError);
    expect((error as GbcsDecodeError).detail).toContain(detail);
  });

  test("length above 65535 is a usage error", () => {
    expect(caught(() => encodeBerLength(0x10000))).toBeInstanceOf(GbcsUsageError);
  });
});

describe("General Signing round trip", () => {
  const certificate = fromHex("3082000130".padEnd(2 * 407, "A"));
  const variants: [string, Partial<GeneralSigning>][] = [
    ["message code only", {}],
    ["date-time present", { dateTime: fromHex("07DF0101FF000000008000FF") }],
    ["remote party ID", { otherInfo: { messageCode: 0x59, supplementaryRemotePartyId: parseEui64(SUPPLIER) } }],
    [
      "remote party counter",
      {
        otherInfo: {
          messageCode: 0x59,
          supplementaryRemotePartyId: parseEui64(SUPPLIER),
          supplementaryRemotePartyCounter: 1660286628923n,
        },
      },
    ],
    [
      "supplementary originator counter",
      {
        otherInfo: {
          messageCode: 0x27,
          supplementaryRemotePartyId: parseEui64(SUPPLIER),
          supplementaryRemotePartyCounter: 5n,
          supplementaryOriginatorCounter: 0xffff_ffff_ffff_ffffn,
        },
      },
    ],
    [
      "KA certificate",
      {
        otherInfo: {
          messageCode: 0x96,
          supplementaryRemotePartyId: parseEui64(SUPPLIER),
          supplementaryRemotePartyCounter: 1100n,
          kaCertificate: certificate,
        },
      },
    ],
    ["absent signature", { signature: { form: "absent" } }],
    ["ECDSA signature", { signature: { form: "ecdsa", value: new Uint8Array(64).fill(7) } }],
    ["long content", { content: new Uint8Array(300).fill(1) }],
    ["alert CRA", { cra: CraFlag.alert, originatorCounter: 0x7d1n }],
  ];

  test.each(variants)("%s", (_name, change) => {
    const apdu = { ...base, ...change };
    const bytes = encodeGeneralSigning(apdu);
    const decoded = decodeGeneralSigning(bytes);

    expect(decoded.apdu).toEqual(apdu);
    expect(toHex(encodeGeneralSigning(decoded.apdu))).toBe(toHex(bytes));
  });

  test("signed data spans DF+1 to the end of the content", () => {
    const bytes = encodeGeneralSigning({ ...base, signature: { form: "ecdsa", value: new Uint8Array(64) } });
    const decoded = decodeGeneralSigning(bytes);

    expect(decoded.signedData.length).toBe(bytes.length - 1 - 65);
    expect(toHex(decoded.signedData)).toBe(toHex(bytes.subarray(1, bytes.length - 65)));
  });

  test("ECS52 command header fields", () => {
    const { apdu } = decodeMessage(readVector("11.2_ECS52/ECS52_11.2_SUCCESS_COMMAND_GBCS.HEX"));

    expect(apdu).toMatchObject({
      cra: CraFlag.command,
      originatorCounter: 1000n,
      originator: SUPPLIER,
      recipient: ESME_A0,
      dateTime: undefined,
      otherInfo: { messageCode: 0x0059 },
      signature: { form: "empty" },
    });
    expect(toHex(apdu.content)).toBe("D9200003E800010100010000000201FF020100");
  });
});

describe("General Signing decode errors", () => {
  const good = toHex(encodeGeneralSigning(base));
  // Offsets into `good`: 0 tag, 1 transaction-id length, 2 CRA, 11 originator length, 20 recipient length,
  // 29 date-time length, 30 other-info length.
  const patch = (offset: number, hex: string) =>
    good.slice(0, offset * 2) + hex + good.slice(offset * 2 + hex.length);

  test.each([
    ["wrong tag", patch(0, "DE"), "tag"],
    ["transaction-id length 8", patch(1, "08"), "transaction-id length"],
    ["CRA flag 4", patch(2, "04"), "CRA flag"],
    ["originator length 7", patch(11, "07"), "originator system title length"],
    ["recipient length 9", patch(20, "09"), "recipient system title length"],
    ["date-time length 5", patch(29, "05"), "date-time length"],
    ["other-info length 3", `${patch(30, "03")}`, "length"],
    ["content longer than the data", good.slice(0, -2 * 3), "content"],
    ["signature length 32", `${good.slice(0, -2)}20${"00".repeat(32)}`, "signature length"],
    ["bytes after the signature", `${good}00`, "end"],
    ["empty input", "", "tag"],
  ])("%s", (_name, hex, field) => {
    const error = caught(() => decodeGeneralSigning(fromHex(hex)));

    expect(error).toBeInstanceOf(GbcsDecodeError);
    expect((error as GbcsDecodeError).field).toBe(field);
  });

  test("error offset counts from the start of the message", () => {
    const wrapped = readVector("11.2_ECS52/ECS52_11.2_SUCCESS_COMMAND_GBCS.HEX");
    wrapped[13 + 11] = 0x07; // originator system title length inside the MAC wrapper

    const error = caught(() => decodeMessage(wrapped)) as GbcsDecodeError;

    expect(error).toBeInstanceOf(GbcsDecodeError);
    expect(error.offset).toBe(24);
  });
});

test("other-information error offset points into the field", () => {
  const bytes = encodeGeneralSigning(base);
  bytes[30] = 3; // other-information length 3, one byte more than the message code
  const shifted = fromHex(toHex(bytes.subarray(0, 33)) + "00" + toHex(bytes.subarray(33)));

  const error = caught(() => decodeGeneralSigning(shifted)) as GbcsDecodeError;

  expect(error).toBeInstanceOf(GbcsDecodeError);
  expect(error.structure).toBe("other-information");
  expect(error.offset).toBe(31);
});

describe("other-information encoding", () => {
  test.each([
    ["counter without remote party ID", { messageCode: 1, supplementaryRemotePartyCounter: 1n }],
    ["originator counter without remote party counter", {
      messageCode: 1,
      supplementaryRemotePartyId: parseEui64(SUPPLIER),
      supplementaryOriginatorCounter: 1n,
    }],
    ["certificate and originator counter", {
      messageCode: 1,
      supplementaryRemotePartyId: parseEui64(SUPPLIER),
      supplementaryRemotePartyCounter: 1n,
      supplementaryOriginatorCounter: 1n,
      kaCertificate: fromHex("3000"),
    }],
    ["message code above 0xFFFF", { messageCode: 0x10000 }],
    ["certificate of 8 bytes", {
      messageCode: 1,
      supplementaryRemotePartyId: parseEui64(SUPPLIER),
      supplementaryRemotePartyCounter: 1n,
      kaCertificate: new Uint8Array(8),
    }],
  ])("%s is a usage error", (_name, info) => {
    const error = caught(() => encodeOtherInformation(info));

    expect(error).toBeInstanceOf(GbcsUsageError);
  });
});

describe("General Ciphering", () => {
  const apdu = encodeGeneralSigning(base);
  const mac = fromHex("A25A51A93BAFA5C9E2B224BD");

  test("round trip", () => {
    const bytes = encodeGeneralCiphering({ apdu, mac });
    const decoded = decodeGeneralCiphering(bytes);

    expect(toHex(bytes.subarray(0, 8))).toBe(`DD000000000000${(5 + apdu.length + 12).toString(16).toUpperCase()}`);
    expect(toHex(decoded.apdu)).toBe(toHex(apdu));
    expect(toHex(decoded.mac)).toBe(toHex(mac));
  });

  test("long APDU takes an 81 length", () => {
    const long = encodeGeneralSigning({ ...base, content: new Uint8Array(200) });
    const bytes = encodeGeneralCiphering({ apdu: long, mac });

    expect(toHex(bytes.subarray(7, 9))).toBe(`81${(5 + long.length + 12).toString(16).toUpperCase()}`);
    expect(toHex(decodeGeneralCiphering(bytes).apdu)).toBe(toHex(long));
  });

  const good = toHex(encodeGeneralCiphering({ apdu, mac }));
  test.each([
    ["wrong tag", `DC${good.slice(2)}`, "tag"],
    ["segmented header", `DD01${good.slice(4)}`, "header"],
    ["length longer than the data", good.slice(0, -2), "ciphered-service length"],
    ["security control 0x10", `${good.slice(0, 16)}10${good.slice(18)}`, "security header"],
    ["invocation counter 1", `${good.slice(0, 18)}00000001${good.slice(26)}`, "security header"],
  ])("%s", (_name, hex, field) => {
    const error = caught(() => decodeGeneralCiphering(fromHex(hex)));

    expect(error).toBeInstanceOf(GbcsDecodeError);
    expect((error as GbcsDecodeError).field).toBe(field);
  });

  test("MAC of 11 bytes is a usage error", () => {
    expect(caught(() => encodeGeneralCiphering({ apdu, mac: mac.subarray(1) }))).toBeInstanceOf(GbcsUsageError);
  });
});
