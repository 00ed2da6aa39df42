import { describe, expect, test } from "bun:test";
import {
  type AccessResponse,
  type DataNotification,
  type DlmsData,
  decodeData,
  decodeDlmsApdu,
  decodeGbzAlert,
  decodeGbzPayload,
  decodeMessage,
  decodePayload,
  decodeTlv,
  encodeData,
  encodeDlmsApdu,
  encodeGbzPayload,
  encodeTlv,
  fromHex,
  GbcsDecodeError,
  GbcsUsageError,
  type GbzPayload,
  payloadKindOf,
  toHex,
} from "../../daemon/gbcs/index.ts";
import { caught, readVector } from "./fixtures.ts";

const contentOf = (path: string) => decodeMessage(readVector(path)).apdu.content;

describe("DLMS data", () => {
  test.each<[string, DlmsData, string]>([
    ["null-data", { type: "null-data" }, "00"],
    ["dont-care", { type: "dont-care" }, "FF"],
    ["boolean", { type: "boolean", value: 1 }, "0301"],
    ["integer -1", { type: "integer", value: -1 }, "0FFF"],
    ["long -2", { type: "long", value: -2 }, "10FFFE"],
    ["unsigned", { type: "unsigned", value: 200 }, "11C8"],
    ["long-unsigned", { type: "long-unsigned", value: 0x8f20 }, "128F20"],
    ["double-long", { type: "double-long", value: -100000 }, "05FFFE7960"],
    ["double-long-unsigned", { type: "double-long-unsigned", value: 0xffffffff }, "06FFFFFFFF"],
    ["long64", { type: "long64", value: -1n }, "14FFFFFFFFFFFFFFFF"],
    ["long64-unsigned", { type: "long64-unsigned", value: 2n ** 63n }, "158000000000000000"],
    ["enum", { type: "enum", value: 2 }, "1602"],
    ["bcd", { type: "bcd", value: 0x12 }, "0D12"],
    ["delta-long", { type: "delta-long", value: -300 }, "1DFED4"],
    ["delta-double-long-unsigned", { type: "delta-double-long-unsigned", value: 7 }, "2100000007"],
    ["octet-string", { type: "octet-string", value: fromHex("0123ABCD") }, "09040123ABCD"],
    ["visible-string", { type: "visible-string", value: fromHex("4142") }, "0A024142"],
    ["utf8-string", { type: "utf8-string", value: fromHex("C3A9") }, "0C02C3A9"],
    ["bit-string", { type: "bit-string", bitLength: 12, value: fromHex("ABC0") }, "040CABC0"],
    ["date-time", { type: "date-time", value: fromHex("07DF0101FF000000008000FF") }, "1907DF0101FF000000008000FF"],
    ["date", { type: "date", value: fromHex("07DF0101FF") }, "1A07DF0101FF"],
    ["time", { type: "time", value: fromHex("0C000000") }, "1B0C000000"],
    ["float32", { type: "float32", value: fromHex("3F800000") }, "173F800000"],
    ["float64", { type: "float64", value: fromHex("3FF0000000000000") }, "183FF0000000000000"],
    [
      "structure in array",
      { type: "array", items: [{ type: "structure", items: [{ type: "enum", value: 2 }, { type: "null-data" }] }] },
      "0101020216 0200".replace(" ", ""),
    ],
    [
      "compact-array",
      { type: "compact-array", typeDescription: fromHex("020212 11"), contents: fromHex("00010200020A") },
      "130202121106 00010200020A".replace(" ", ""),
    ],
  ])("%s round trip", (_name, data, hex) => {
    expect(toHex(encodeData(data))).toBe(hex);
    expect(decodeData(fromHex(hex))).toEqual(data);
  });

  test("long octet-string uses an 81 length", () => {
    const data: DlmsData = { type: "octet-string", value: new Uint8Array(200) };

    expect(toHex(encodeData(data).subarray(0, 3))).toBe("0981C8");
    expect(decodeData(encodeData(data))).toEqual(data);
  });

  test.each([
    ["unknown tag 0x07", "0700", "data tag"],
    ["truncated long-unsigned", "128F", "long-unsigned"],
    ["octet-string longer than the data", "090501", "octet-string"],
    ["structure count beyond the data", "020300", "data tag"],
    ["trailing byte", "0000", "end"],
    ["nesting deeper than 16", "0101".repeat(17) + "00", "array"],
  ])("%s is rejected", (_name, hex, field) => {
    const error = caught(() => decodeData(fromHex(hex)));

    expect(error).toBeInstanceOf(GbcsDecodeError);
    expect((error as GbcsDecodeError).field).toBe(field);
  });

  test.each<[string, DlmsData]>([
    ["unsigned 256", { type: "unsigned", value: 256 }],
    ["integer -129", { type: "integer", value: -129 }],
    ["long-unsigned 1.5", { type: "long-unsigned", value: 1.5 }],
    ["date-time of 11 bytes", { type: "date-time", value: new Uint8Array(11) }],
    ["bit-string of 9 bits in 1 byte", { type: "bit-string", bitLength: 9, value: new Uint8Array(1) }],
  ])("%s is a usage error", (_name, data) => {
    expect(caught(() => encodeData(data))).toBeInstanceOf(GbcsUsageError);
  });
});

describe("DLMS APDUs", () => {
  test("ECS52 Access-Request fields", () => {
    const apdu = decodeDlmsApdu(contentOf("11.2_ECS52/ECS52_11.2_SUCCESS_COMMAND_GBCS.HEX"));

    expect(apdu).toEqual({
      apdu: "access-request",
      invokeIdAndPriority: 0x200003e8,
      dateTime: undefined,
      specifications: [{ kind: "get", descriptor: { classId: 1, instanceId: fromHex("0000000201FF"), index: 2 } }],
      data: [{ type: "null-data" }],
    });
  });

  test("ECS52 Access-Response fields", () => {
    const apdu = decodeDlmsApdu(contentOf("11.2_ECS52/ECS52_11.2_SUCCESS_RESPONSE_GBCS.HEX")) as AccessResponse;

    expect(apdu.requestSpecifications).toBeUndefined();
    expect(apdu.data).toEqual([{ type: "octet-string", value: fromHex("0123ABCD") }]);
    expect(apdu.results).toEqual([{ kind: "get", result: 0 }]);
  });

  test("alert Data-Notification fields", () => {
    const apdu = decodeDlmsApdu(contentOf("NA_GNCA-DLMS/GNCA-DLMS_NA_810E_ALERT_GBCS.HEX")) as DataNotification;

    expect(apdu.apdu).toBe("data-notification");
    expect(apdu.invokeIdAndPriority).toBe(0x200007d0);
    expect(apdu.body).toEqual({
      type: "structure",
      items: [
        { type: "long-unsigned", value: 0x810e },
        { type: "octet-string", value: fromHex("07DF0101FF000000008000FF") },
      ],
    });
  });

  test.each([
    ["ECS17b command with an action", "4.1.1_ECS17b/ECS17b_4.1.1_SINGLE_SUCCESS_COMMAND_GBCS.HEX"],
    ["ECS17b response with ciphertext", "4.1.1_ECS17b/ECS17b_4.1.1_SINGLE_SUCCESS_RESPONSE_GBCS.HEX"],
    ["ECS70 command with eight sets", "8.1.1_ECS70Commission/ECS70Commission_8.1.1_SUCCESS_COMMAND_GBCS.HEX"],
  ])("%s round trip", (_name, path) => {
    const content = contentOf(path);

    expect(toHex(encodeDlmsApdu(decodeDlmsApdu(content)))).toBe(toHex(content));
  });

  test("Access-Response with request echo round trip", () => {
    const apdu: AccessResponse = {
      apdu: "access-response",
      invokeIdAndPriority: 0x20000001,
      dateTime: fromHex("07DF0101FF000000008000FF"),
      requestSpecifications: [
        {
          kind: "get-with-selection",
          descriptor: { classId: 7, instanceId: fromHex("0100630100FF"), index: 2 },
          accessSelector: 1,
          accessParameters: { type: "null-data" },
        },
      ],
      data: [{ type: "array", items: [] }],
      results: [{ kind: "get", result: 0 }],
    };

    expect(decodeDlmsApdu(encodeDlmsApdu(apdu))).toEqual(apdu);
  });

  test.each([
    ["unknown APDU tag", "C0200003E800", "tag"],
    ["date-time length 5", "D9200003E805", "date-time length"],
    ["request choice 6", "D9200003E80001060001000000000000020100", "access-request-specification choice"],
    ["response presence 2", "DA200003E80002", "access-request-specification presence"],
    ["response choice 4", "DA200003E80000000104 00".replace(" ", ""), "access-response-specification choice"],
  ])("%s is rejected", (_name, hex, field) => {
    const error = caught(() => decodeDlmsApdu(fromHex(hex)));

    expect(error).toBeInstanceOf(GbcsDecodeError);
    expect((error as GbcsDecodeError).field).toBe(field);
  });
});

describe("GBZ", () => {
  test("GCS13a response splits an encrypted component", () => {
    const gbz = decodeGbzPayload(contentOf("4.1.1_GCS13a/GCS13a_4.1.1_SUCCESS_RELIABLE_GSME_RESPONSE_GBCS.HEX"));
    const component = gbz.components[0]!;

    expect(gbz.components.length).toBe(1);
    expect(component.encrypted).toBe(true);
    expect(component.clusterId).toBe(0x0702);
    expect(component.zcl).toEqual({ frameControl: 0x18, sequenceNumber: 0, commandId: 1 });
    if (!component.encrypted) throw new Error("expected an encrypted component");
    expect(toHex(component.protectedPayload.subarray(0, 5))).toBe("3100000000");
  });

  test("GCS05 command carries a from date-time", () => {
    const gbz = decodeGbzPayload(contentOf("2.1_GCS05/GCS05_2.1_IMMEDIATE_SUCCESS_COMMAND_GBCS.HEX"));
    const dated = gbz.components.filter((component) => component.fromDateTime !== undefined);

    expect(gbz.components.length).toBe(12);
    expect(dated.length).toBeGreaterThan(0);
    expect(dated[0]!.fromDateTime).toBe(0);
  });

  test("MIIWA alert header fields", () => {
    const alert = decodeGbzAlert(contentOf("NA_MIIWA-ZigBee/MIIWA-ZigBee_NA_81A0_ALERT_GBCS.HEX"));

    expect(alert).toEqual({ form: "alert", headerControl: 1, alertCode: 0x81a0, timestamp: 0x1c374a80, data: fromHex("0005") });
  });

  test("manufacturer-specific ZCL header round trip", () => {
    const payload: GbzPayload = {
      form: "components",
      components: [
        {
          encrypted: false,
          control: 0x11,
          clusterId: 0x0702,
          fromDateTime: 0x1c374a80,
          zcl: { frameControl: 0x05, manufacturerCode: 0x1234, sequenceNumber: 7, commandId: 0x0a },
          payload: fromHex("0102"),
        },
      ],
    };

    const bytes = encodeGbzPayload(payload);

    expect(toHex(bytes)).toBe("01090111070200 0B1C374A800534120 70A0102".replaceAll(" ", ""));
    expect(decodeGbzPayload(bytes)).toEqual(payload);
  });

  test.each([
    ["profile 0x0104", "01040101070200030000 00".replaceAll(" ", ""), "profile ID"],
    ["zero components", "010900", "component count"],
    ["unknown control bit 0x40", "01090141070200030000 00".replaceAll(" ", ""), "extended header control"],
    ["last bit on the first of two", "0109020107020003000000 0107020003000000".replaceAll(" ", ""), "extended header control"],
    ["component longer than the data", "01090101070200090000 00".replaceAll(" ", ""), "GBZ command"],
  ])("%s is rejected", (_name, hex, field) => {
    const error = caught(() => decodeGbzPayload(fromHex(hex)));

    expect(error).toBeInstanceOf(GbcsDecodeError);
    expect((error as GbcsDecodeError).field).toBe(field);
  });
});

describe("ASN.1 TLV", () => {
  test("CS02 response keeps its long length form", () => {
    const content = contentOf("6.15.1_CS02bSupplierBySupplier/CS02bSupplierBySupplier_6.15.1_IMMEDIATE_SUCCESS_RESPONSE_GBCS.HEX");
    const nodes = decodeTlv(content);

    expect(nodes[0]!.lengthOctets).toBe(2);
    expect(toHex(encodeTlv(nodes))).toBe(toHex(content));
  });

  test("high tag number round trip", () => {
    const hex = "BF8A3B03020101";
    const nodes = decodeTlv(fromHex(hex));

    expect(nodes[0]).toMatchObject({ tagClass: "context", constructed: true, tagNumber: 0x053b });
    expect(toHex(encodeTlv(nodes))).toBe(hex);
  });

  test.each([
    ["indefinite length", "3080", "length"],
    ["value beyond the data", "0405 0102".replace(" ", ""), "value"],
    ["high tag number below 31", "1F1E00", "tag number"],
    ["four length octets", "048400000001 00".replace(" ", ""), "length"],
  ])("%s is rejected", (_name, hex, field) => {
    const error = caught(() => decodeTlv(fromHex(hex)));

    expect(error).toBeInstanceOf(GbcsDecodeError);
    expect((error as GbcsDecodeError).field).toBe(field);
  });
});

describe("payload dispatch", () => {
  test.each([
    ["listed DLMS code", 0x0059, "D9", "dlms"],
    ["listed GBZ code", 0x0074, "0109", "gbz"],
    ["listed ASN.1 code", 0x0012, "0500", "asn1"],
    ["unlisted code with DA", 0x7fff, "DA", "dlms"],
    ["unlisted code with 01 09", 0x7fff, "0109", "gbz"],
    ["unlisted code with 30", 0x7fff, "3000", "asn1"],
  ])("%s", (_name, code, hex, kind) => {
    expect(payloadKindOf(code, fromHex(hex))).toBe(kind as "dlms");
  });

  test("error offset counts from the message start", () => {
    const bytes = readVector("11.2_ECS52/ECS52_11.2_SUCCESS_RESPONSE_GBCS.HEX");
    const message = decodeMessage(bytes);
    const broken = { ...message.apdu, content: fromHex("DA200003E80002") };

    const error = caught(() => decodePayload(broken, message.contentOffset)) as GbcsDecodeError;

    expect(error).toBeInstanceOf(GbcsDecodeError);
    expect(error.offset).toBe(message.contentOffset + 6);
  });
});
