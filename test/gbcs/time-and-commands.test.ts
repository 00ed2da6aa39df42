import { describe, expect, test } from "bun:test";
import {
  buildCommand,
  decodeDlmsDateTime,
  decodeMessage,
  encodeDlmsDateTime,
  fromHex,
  fromZigbeeUtcTime,
  GbcsDecodeError,
  GbcsUsageError,
  openCommand,
  parseEui64,
  toHex,
  toZigbeeUtcTime,
  wrapWithMac,
} from "../../daemon/gbcs/index.ts";
import { a0KaPrivate, a0KaPublic, ACB, acbKa, caught, ESME_A0, orgKeys, readVector, SUPPLIER } from "./fixtures.ts";

const acbKaPublic = () => orgKeys().publicKey({ eui: ACB, usage: "keyAgreement", name: "Z1-accessControlBroker-ka" });

describe("DCC-side commands", () => {
  test("DCC re-creates the ECS52 command byte for byte", () => {
    const expected = readVector("11.2_ECS52/ECS52_11.2_SUCCESS_COMMAND_GBCS.HEX");

    const command = buildCommand({
      originator: parseEui64(SUPPLIER),
      recipient: parseEui64(ESME_A0),
      counter: 1000n,
      messageCode: 0x0059,
      content: fromHex("D9200003E800010100010000000201FF020100"),
    });
    const bytes = wrapWithMac(command, { senderKaPrivateKey: acbKa(), peerKaPublicKey: a0KaPublic() });

    expect(toHex(bytes)).toBe(toHex(expected));
  });

  test.each([
    ["a bare DF message", () => readVector("1.7_ECS05/ECS05_1.7_SUCCESS_RESPONSE_GBCS.HEX"), "tag"],
    ["a MAC-wrapped response", () => readVector("11.2_ECS52/ECS52_11.2_SUCCESS_RESPONSE_GBCS.HEX"), "CRA flag"],
  ])("device rejects %s as a command", (_name, bytes, field) => {
    const error = caught(() => openCommand(bytes(), { deviceKaPrivateKey: a0KaPrivate(), remoteKaPublicKey: acbKaPublic() }));

    expect(error).toBeInstanceOf(GbcsDecodeError);
    expect((error as GbcsDecodeError).field).toBe(field);
  });
});

describe("DLMS date-time", () => {
  test("encodes as the RTDS vectors send it", () => {
    const bytes = encodeDlmsDateTime(new Date("2015-01-01T00:00:00Z"));

    expect(toHex(bytes)).toBe("07DF0101FF000000008000FF");
  });

  test("RTDS response date-time decodes to 2015-01-01", () => {
    const { dateTime } = decodeMessage(readVector("4.1.1_ECS17b/ECS17b_4.1.1_SINGLE_SUCCESS_RESPONSE_GBCS.HEX")).apdu;

    expect(decodeDlmsDateTime(dateTime!).toISOString()).toBe("2015-01-01T00:00:00.000Z");
  });

  test("round trip keeps hundredths", () => {
    const instant = new Date("2026-12-04T20:31:07.450Z");

    expect(decodeDlmsDateTime(encodeDlmsDateTime(instant))).toEqual(instant);
  });

  test.each([
    ["11 bytes", "07DF0101FF000000008000", "length"],
    ["unspecified hour", "07DF0101FFFF0000008000FF", "hour"],
    ["deviation of +60 minutes", "07DF0101FF0000000000 3CFF".replace(" ", ""), "deviation"],
  ])("%s is rejected", (_name, hex, field) => {
    const error = caught(() => decodeDlmsDateTime(fromHex(hex)));

    expect(error).toBeInstanceOf(GbcsDecodeError);
    expect((error as GbcsDecodeError).field).toBe(field);
  });

  test("invalid Date is a usage error", () => {
    expect(caught(() => encodeDlmsDateTime(new Date(Number.NaN)))).toBeInstanceOf(GbcsUsageError);
  });
});

describe("ZigBee UTCTime", () => {
  test("RTDS alert time is 2015-01-01", () => {
    expect(fromZigbeeUtcTime(0x1c374a80).toISOString()).toBe("2015-01-01T00:00:00.000Z");
  });

  test("epoch is 2000-01-01", () => {
    expect(toZigbeeUtcTime(new Date("2000-01-01T00:00:00Z"))).toBe(0);
    expect(toZigbeeUtcTime(new Date("2015-01-01T00:00:00Z"))).toBe(0x1c374a80);
  });
});
