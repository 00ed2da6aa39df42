import { describe, expect, test } from "bun:test";
import { generateKeyPairSync } from "node:crypto";
import {
  buildResponse,
  checkMac,
  computeMac,
  decodeMessage,
  decryptPayload,
  deriveKey,
  encodeGeneralSigning,
  encryptPayload,
  fromHex,
  GbcsDecodeError,
  GbcsDecryptionError,
  GbcsMacMismatchError,
  GbcsSignatureInvalidError,
  GbcsUsageError,
  KdfMode,
  openCommand,
  parseEui64,
  signGeneralSigning,
  toHex,
  verifyGeneralSigning,
  verifyMac,
  wrapWithMac,
} from "../../daemon/gbcs/index.ts";
import { a0KaPrivate, a0KaPublic, ACB, acbKa, ESME_A0, orgKeys, readVector, SUPPLIER, supplierKa } from "./fixtures.ts";

const ECS52 = "11.2_ECS52/ECS52_11.2_SUCCESS";

const publicOf = (eui: string, name: string) => orgKeys().publicKey({ eui, usage: "keyAgreement", name });

describe("GBCS KDF", () => {
  // Known-answer vectors of the GBCS KDF over the ZAZ1 keys. Each is checked from both ECDH sides.
  const cases = [
    {
      name: "command",
      orgKey: "Z1-accessControlBroker-ka",
      orgEui: ACB,
      originator: SUPPLIER,
      recipient: ESME_A0,
      counter: 0x0000000100000000n,
      mode: KdfMode.command,
      key: "6A93E360717394015DF93E031218C9A6",
    },
    {
      name: "response",
      orgKey: "Z1-supplier-ka",
      orgEui: SUPPLIER,
      originator: ESME_A0,
      recipient: SUPPLIER,
      counter: 0x0000000100000000n,
      mode: KdfMode.response,
      key: "03FD30815577C49EB7E3834B63EF8302",
    },
    {
      name: "alert",
      orgKey: "Z1-supplier-ka",
      orgEui: SUPPLIER,
      originator: ESME_A0,
      recipient: SUPPLIER,
      counter: 0x7d1n,
      mode: KdfMode.alert,
      key: "558FB1FA6660AF0D9E8365C47804B8FA",
    },
  ];

  test.each(cases)("$name key from the organisation side", (c) => {
    const pair = {
      privateKey: orgKeys().privateKey({ eui: c.orgEui, usage: "keyAgreement", name: c.orgKey }),
      publicKey: a0KaPublic(),
    };
    const parameters = { originator: parseEui64(c.originator), recipient: parseEui64(c.recipient), counter: c.counter, mode: c.mode };

    expect(toHex(deriveKey(pair, parameters))).toBe(c.key);
  });

  test.each(cases)("$name key from the device side", (c) => {
    const pair = { privateKey: a0KaPrivate(), publicKey: publicOf(c.orgEui, c.orgKey) };
    const parameters = { originator: parseEui64(c.originator), recipient: parseEui64(c.recipient), counter: c.counter, mode: c.mode };

    expect(toHex(deriveKey(pair, parameters))).toBe(c.key);
  });

  test("rejects a key of another curve", () => {
    const other = generateKeyPairSync("ec", { namedCurve: "secp384r1" });
    const parameters = { originator: parseEui64(SUPPLIER), recipient: parseEui64(ESME_A0), counter: 1n, mode: KdfMode.command };

    expect(() => deriveKey({ privateKey: other.privateKey, publicKey: a0KaPublic() }, parameters)).toThrow(GbcsUsageError);
  });

  test("rejects a public key as the private key", () => {
    const parameters = { originator: parseEui64(SUPPLIER), recipient: parseEui64(ESME_A0), counter: 1n, mode: KdfMode.command };
    let caught: unknown;
    try {
      deriveKey({ privateKey: a0KaPublic(), publicKey: a0KaPublic() }, parameters);
    } catch (error) {
      caught = error;
    }

    expect(caught).toBeInstanceOf(GbcsUsageError);
    expect((caught as GbcsUsageError).argument).toBe("privateKey");
  });
});

describe("ECS52 MAC", () => {
  test("command MAC verifies with the ACB KA key", () => {
    const message = decodeMessage(readVector(`${ECS52}_COMMAND_GBCS.HEX`));

    expect(checkMac(message, { privateKey: acbKa(), publicKey: a0KaPublic() })).toBe(true);
  });

  test("device opens the command with its KA key", () => {
    const message = openCommand(readVector(`${ECS52}_COMMAND_GBCS.HEX`), {
      deviceKaPrivateKey: a0KaPrivate(),
      remoteKaPublicKey: publicOf(ACB, "Z1-accessControlBroker-ka"),
    });

    expect(message.apdu.originatorCounter).toBe(1000n);
    expect(message.apdu.otherInfo.messageCode).toBe(0x0059);
  });

  test("command MAC does not verify with the supplier KA key", () => {
    const bytes = readVector(`${ECS52}_COMMAND_GBCS.HEX`);
    let caught: unknown;
    try {
      openCommand(bytes, { deviceKaPrivateKey: a0KaPrivate(), remoteKaPublicKey: publicOf(SUPPLIER, "Z1-supplier-ka") });
    } catch (error) {
      caught = error;
    }

    expect(caught).toBeInstanceOf(GbcsMacMismatchError);
    expect(caught).toMatchObject({ originator: SUPPLIER, recipient: ESME_A0, counter: 1000n });
  });

  test("response MAC verifies from both sides", () => {
    const message = decodeMessage(readVector(`${ECS52}_RESPONSE_GBCS.HEX`));

    expect(checkMac(message, { privateKey: supplierKa(), publicKey: a0KaPublic() })).toBe(true);
    expect(checkMac(message, { privateKey: a0KaPrivate(), publicKey: publicOf(SUPPLIER, "Z1-supplier-ka") })).toBe(true);
  });

  test("flipped content bit fails the MAC", () => {
    const bytes = readVector(`${ECS52}_RESPONSE_GBCS.HEX`);
    bytes[bytes.length - 20]! ^= 0x01;

    expect(() => verifyMac(decodeMessage(bytes), { privateKey: supplierKa(), publicKey: a0KaPublic() })).toThrow(
      GbcsMacMismatchError,
    );
  });

  test("bare DF message has no MAC to verify", () => {
    const message = decodeMessage(readVector("1.7_ECS05/ECS05_1.7_SUCCESS_RESPONSE_GBCS.HEX"));
    let caught: unknown;
    try {
      verifyMac(message, { privateKey: supplierKa(), publicKey: a0KaPublic() });
    } catch (error) {
      caught = error;
    }

    expect(caught).toBeInstanceOf(GbcsDecodeError);
    expect((caught as GbcsDecodeError).field).toBe("MAC");
  });

  test("device re-creates the success response byte for byte", () => {
    const command = decodeMessage(readVector(`${ECS52}_COMMAND_GBCS.HEX`)).apdu;
    // Access-Response: invoke id of the command, no date-time, firmware version 0123ABCD, GET success.
    const content = fromHex("DA 20 00 03 E8 00 00 01 09 04 01 23 AB CD 01 01 00");

    const response = buildResponse(command, { content });
    const bytes = wrapWithMac(response, {
      senderKaPrivateKey: a0KaPrivate(),
      peerKaPublicKey: publicOf(SUPPLIER, "Z1-supplier-ka"),
    });

    expect(toHex(bytes)).toBe(toHex(readVector(`${ECS52}_RESPONSE_GBCS.HEX`)));
  });
});

describe("payload encryption", () => {
  const key = fromHex("000102030405060708090A0B0C0D0E0F");
  const originator = parseEui64(ESME_A0);

  test("round trip returns the plaintext", () => {
    const plaintext = fromHex("0201020406000000");
    const sealed = encryptPayload(key, originator, plaintext);

    expect(toHex(sealed.subarray(0, 5))).toBe("3100000000");
    expect(sealed.length).toBe(5 + plaintext.length + 12);
    expect(toHex(decryptPayload(key, originator, sealed))).toBe(toHex(plaintext));
  });

  test("wrong originator fails the tag", () => {
    const sealed = encryptPayload(key, originator, fromHex("01020304"));

    expect(() => decryptPayload(key, parseEui64(SUPPLIER), sealed)).toThrow(GbcsDecryptionError);
  });

  test("rejects a key of 15 bytes", () => {
    expect(() => encryptPayload(key.subarray(1), originator, fromHex("01"))).toThrow(GbcsUsageError);
  });
});

describe("grouping header signature", () => {
  const dsKey = () => orgKeys().privateKey({ eui: SUPPLIER, usage: "digitalSignature", name: "Z1-supplier-ds" });
  const dsPublic = () => orgKeys().publicKey({ eui: SUPPLIER, usage: "digitalSignature", name: "Z1-supplier-ds" });

  test("sign then verify succeeds", () => {
    const command = decodeMessage(readVector(`${ECS52}_COMMAND_GBCS.HEX`)).apdu;
    const signed = decodeMessage(encodeGeneralSigning(signGeneralSigning(command, dsKey())));

    expect(signed.apdu.signature.form).toBe("ecdsa");
    expect(() => verifyGeneralSigning(signed, dsPublic())).not.toThrow();
  });

  test("signature over other content fails", () => {
    const command = decodeMessage(readVector(`${ECS52}_COMMAND_GBCS.HEX`)).apdu;
    const signed = signGeneralSigning(command, dsKey());
    const tampered = decodeMessage(encodeGeneralSigning({ ...signed, originatorCounter: 1001n }));

    expect(() => verifyGeneralSigning(tampered, dsPublic())).toThrow(GbcsSignatureInvalidError);
  });

  test("unsigned APDU is rejected", () => {
    const command = decodeMessage(readVector(`${ECS52}_COMMAND_GBCS.HEX`));

    expect(() => verifyGeneralSigning(command, dsPublic())).toThrow(GbcsSignatureInvalidError);
  });

  test("MAC helper matches a direct computation", () => {
    const message = decodeMessage(readVector(`${ECS52}_RESPONSE_GBCS.HEX`));
    const key = deriveKey(
      { privateKey: supplierKa(), publicKey: a0KaPublic() },
      { originator: message.apdu.originator, recipient: message.apdu.recipient, counter: 1000n, mode: KdfMode.response },
    );

    expect(toHex(computeMac(key, message.apdu.originator, message.encoded))).toBe(toHex(message.mac!));
  });
});
