import { describe, expect, test } from "bun:test";
import { generateKeyPairSync } from "node:crypto";
import {
  buildCommandFromSignedPreCommand,
  buildResponse,
  CraFlag,
  checkMac,
  decodeGeneralCiphering,
  decodeMessage,
  encodeGeneralSigning,
  fromHex,
  GbcsDecodeError,
  GbcsSignatureInvalidError,
  GbcsUsageError,
  parseEui64,
  signGeneralSigning,
  signPreCommand,
  toHex,
  verifyGeneralSigning,
  verifyPreCommandSignature,
  wrapWithMac,
} from "../../daemon/gbcs/index.ts";
import {
  a0KaPrivate,
  a0KaPublic,
  ACB,
  acbKa,
  caught,
  devicePublicKey,
  ESME_A0,
  orgKeys,
  readVector,
  SUPPLIER,
  supplierKa,
} from "./fixtures.ts";

const ECS70 = "8.1.1_ECS70Commission/ECS70Commission_8.1.1_SUCCESS";
const supplierDs = () => orgKeys().publicKey({ eui: SUPPLIER, usage: "digitalSignature", name: "Z1-supplier-ds" });
const supplierDsPrivate = () => orgKeys().privateKey({ eui: SUPPLIER, usage: "digitalSignature", name: "Z1-supplier-ds" });

/** Returns the SignedPreCommand inside an RTDS command: the APDU between the MAC header and the MAC. */
function signedPreCommandOf(command: Uint8Array): Uint8Array {
  return decodeGeneralCiphering(command).apdu;
}

describe("SignedPreCommand to Command", () => {
  test("RTDS pre-command is the command APDU without its signature", () => {
    const preCommand = readVector(`${ECS70}_PRECOMMAND_GBCS.HEX`);
    const signed = signedPreCommandOf(readVector(`${ECS70}_COMMAND_GBCS.HEX`));

    expect(toHex(signed.subarray(0, preCommand.length))).toBe(toHex(preCommand));
    expect(signed.length).toBe(preCommand.length + 65);
  });

  test("supplier signature verifies with Z1-supplier-ds", () => {
    const signed = signedPreCommandOf(readVector(`${ECS70}_COMMAND_GBCS.HEX`));
    const message = verifyPreCommandSignature(signed, supplierDs());

    expect(message.apdu.originator).toBe(parseEui64(SUPPLIER));
    expect(message.apdu.otherInfo.messageCode).toBe(0x0062);
  });

  test("signature by another key is rejected", () => {
    const signed = signedPreCommandOf(readVector(`${ECS70}_COMMAND_GBCS.HEX`));
    const acbDs = orgKeys().publicKey({ eui: ACB, usage: "digitalSignature", name: "Z1-accessControlBroker-ds" });

    const error = caught(() => verifyPreCommandSignature(signed, acbDs));

    expect(error).toBeInstanceOf(GbcsSignatureInvalidError);
    expect(error).toMatchObject({ originator: SUPPLIER, counter: 1000n });
  });

  test("Command equals the RTDS command byte for byte", () => {
    const command = readVector(`${ECS70}_COMMAND_GBCS.HEX`);

    const built = buildCommandFromSignedPreCommand(signedPreCommandOf(command), {
      acbKaPrivateKey: acbKa(),
      deviceKaPublicKey: a0KaPublic(),
    });

    expect(toHex(built)).toBe(toHex(command));
  });

  test("unsigned pre-command cannot become a Command", () => {
    const error = caught(() =>
      buildCommandFromSignedPreCommand(readVector(`${ECS70}_PRECOMMAND_GBCS.HEX`), {
        acbKaPrivateKey: acbKa(),
        deviceKaPublicKey: a0KaPublic(),
      }),
    );

    expect(error).toBeInstanceOf(GbcsSignatureInvalidError);
  });

  test.each([
    ["without signature field", ""],
    ["with a 00 signature byte", "00"],
  ])("client signs a pre-command %s", (_name, suffix) => {
    const preCommand = fromHex(toHex(readVector(`${ECS70}_PRECOMMAND_GBCS.HEX`)) + suffix);

    const signed = signPreCommand(preCommand, supplierDsPrivate());
    const message = verifyPreCommandSignature(signed, supplierDs());

    expect(message.apdu.signature.form).toBe("ecdsa");
    expect(signed.length).toBe(readVector(`${ECS70}_PRECOMMAND_GBCS.HEX`).length + 65);
  });

  test("signing twice is a usage error", () => {
    const signed = signedPreCommandOf(readVector(`${ECS70}_COMMAND_GBCS.HEX`));

    expect(caught(() => signPreCommand(signed, supplierDsPrivate()))).toBeInstanceOf(GbcsUsageError);
  });

  test.each([
    ["MAC-wrapped input", () => readVector(`${ECS70}_COMMAND_GBCS.HEX`), "tag"],
    ["response CRA flag", () => readVector("1.7_ECS05/ECS05_1.7_SUCCESS_RESPONSE_GBCS.HEX"), "CRA flag"],
  ])("pre-command check rejects %s", (_name, bytes, field) => {
    const error = caught(() => verifyPreCommandSignature(bytes(), supplierDs()));

    expect(error).toBeInstanceOf(GbcsDecodeError);
    expect((error as GbcsDecodeError).field).toBe(field);
  });
});

describe("device responses", () => {
  test("RTDS ECS05 response verifies with the A0 DS certificate", () => {
    const message = decodeMessage(readVector("1.7_ECS05/ECS05_1.7_SUCCESS_RESPONSE_GBCS.HEX"));

    expect(message.mac).toBeUndefined();
    expect(() => verifyGeneralSigning(message, devicePublicKey(ESME_A0, "ds")!)).not.toThrow();
  });

  test("device-signed response verifies with its DS key", () => {
    const device = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const command = decodeMessage(readVector(`${ECS70}_COMMAND_GBCS.HEX`)).apdu;

    const response = signGeneralSigning(buildResponse(command, { content: fromHex("DA20") }), device.privateKey);
    const message = decodeMessage(encodeGeneralSigning(response));

    expect(() => verifyGeneralSigning(message, device.publicKey)).not.toThrow();
  });

  test("response swaps titles and echoes the counter", () => {
    const command = decodeMessage(readVector(`${ECS70}_COMMAND_GBCS.HEX`)).apdu;

    const response = buildResponse(command, {
      content: fromHex("DA"),
      messageCode: 0x0063,
      supplementaryRemotePartyId: parseEui64(SUPPLIER),
      supplementaryRemotePartyCounter: 42n,
    });

    expect(response).toMatchObject({
      cra: CraFlag.response,
      originatorCounter: 1000n,
      originator: ESME_A0,
      recipient: SUPPLIER,
      otherInfo: { messageCode: 0x0063, supplementaryRemotePartyId: SUPPLIER, supplementaryRemotePartyCounter: 42n },
      signature: { form: "empty" },
    });
  });

  test("ACB-addressed response MACs with the ACB key", () => {
    const command = { ...decodeMessage(readVector("11.2_ECS52/ECS52_11.2_SUCCESS_COMMAND_GBCS.HEX")).apdu };
    command.originator = parseEui64(ACB);
    const acbPublic = orgKeys().publicKey({ eui: ACB, usage: "keyAgreement", name: "Z1-accessControlBroker-ka" });

    const response = buildResponse(command, {
      content: fromHex("DA200003E8000001090400020000010100"),
      supplementaryRemotePartyId: parseEui64(SUPPLIER),
      supplementaryRemotePartyCounter: 1660286628923n,
    });
    const message = decodeMessage(wrapWithMac(response, { senderKaPrivateKey: a0KaPrivate(), peerKaPublicKey: acbPublic }));

    expect(checkMac(message, { privateKey: acbKa(), publicKey: a0KaPublic() })).toBe(true);
    expect(checkMac(message, { privateKey: supplierKa(), publicKey: a0KaPublic() })).toBe(false);
  });
});
