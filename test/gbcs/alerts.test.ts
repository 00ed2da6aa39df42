import { describe, expect, test } from "bun:test";
import {
  buildAlert,
  buildDlmsAlertContent,
  checkMac,
  CraFlag,
  decodeMessage,
  fromHex,
  GbcsUsageError,
  invokeIdFor,
  parseEui64,
  toHex,
  wrapWithMac,
} from "../../daemon/gbcs/index.ts";
import { a0KaPrivate, a0KaPublic, caught, ESME_A0, orgKeys, readVector, SUPPLIER, supplierKa } from "./fixtures.ts";

const supplierKaPublic = () => orgKeys().publicKey({ eui: SUPPLIER, usage: "keyAgreement", name: "Z1-supplier-ka" });
const TIMESTAMP = fromHex("07DF0101FF000000008000FF");

describe("device alerts", () => {
  test("device re-creates the RTDS GNCA alert byte for byte", () => {
    const expected = readVector("NA_GNCA-DLMS/GNCA-DLMS_NA_810E_ALERT_GBCS.HEX");

    const alert = buildAlert({
      originator: parseEui64(ESME_A0),
      recipient: parseEui64(SUPPLIER),
      counter: 2000n,
      messageCode: 0x1001,
      content: buildDlmsAlertContent({ counter: 2000n, alertCode: 0x810e, timestamp: TIMESTAMP }),
    });
    const bytes = wrapWithMac(alert, { senderKaPrivateKey: a0KaPrivate(), peerKaPublicKey: supplierKaPublic() });

    expect(toHex(bytes)).toBe(toHex(expected));
  });

  test("supplier checks the alert MAC", () => {
    const alert = buildAlert({
      originator: parseEui64(ESME_A0),
      recipient: parseEui64(SUPPLIER),
      counter: 2019n,
      messageCode: 0x1001,
      content: buildDlmsAlertContent({ counter: 2019n, alertCode: 0x8f20, timestamp: TIMESTAMP }),
    });
    const message = decodeMessage(wrapWithMac(alert, { senderKaPrivateKey: a0KaPrivate(), peerKaPublicKey: supplierKaPublic() }));

    expect(message.apdu.cra).toBe(CraFlag.alert);
    expect(toHex(message.apdu.content)).toBe("0F200007E30002021 28F20090C07DF0101FF000000008000FF".replace(" ", ""));
    expect(checkMac(message, { privateKey: supplierKa(), publicKey: a0KaPublic() })).toBe(true);
  });

  test("alert carries supplementary fields", () => {
    const alert = buildAlert({
      originator: parseEui64(ESME_A0),
      recipient: parseEui64("90B3D51F30000002"),
      counter: 2001n,
      messageCode: 0x0120,
      content: fromHex("0F"),
      otherInfo: { supplementaryRemotePartyId: parseEui64(SUPPLIER), supplementaryRemotePartyCounter: 200000n },
    });

    expect(alert.otherInfo).toEqual({
      messageCode: 0x0120,
      supplementaryRemotePartyId: parseEui64(SUPPLIER),
      supplementaryRemotePartyCounter: 200000n,
    });
  });

  test.each([
    [1000n, 0x200003e8],
    [0x1_0000_0000n, 0x20000000],
    [0xff_ffffn + 2n, 0x20000001],
  ])("invoke id of counter %p", (counter, expected) => {
    expect(invokeIdFor(counter)).toBe(expected);
  });

  test("timestamp of 11 bytes is a usage error", () => {
    const error = caught(() => buildDlmsAlertContent({ counter: 1n, alertCode: 0x8f20, timestamp: TIMESTAMP.subarray(1) }));

    expect(error).toBeInstanceOf(GbcsUsageError);
  });
});
