import { describe, expect, test } from "bun:test";
import {
  buildProtectedAttributesResponse,
  decodeMessage,
  decryptProtectedAttributes,
  type DlmsData,
  encodeData,
  GbcsDecodeError,
  GbcsDecryptionError,
  GbcsUsageError,
  readProtectedAttributesRequest,
  toHex,
  wrapWithMac,
} from "../../daemon/gbcs/index.ts";
import { a0KaPrivate, a0KaPublic, caught, orgKeys, readVector, SUPPLIER, supplierKa } from "./fixtures.ts";

const ECS17B = "4.1.1_ECS17b/ECS17b_4.1.1";
const NETWORK_OPERATOR = "90B3D51F30020000";

const supplierKaPublic = () => orgKeys().publicKey({ eui: SUPPLIER, usage: "keyAgreement", name: "Z1-supplier-ka" });
const operatorKa = () => orgKeys().privateKey({ eui: NETWORK_OPERATOR, usage: "keyAgreement", name: "Z1-networkOperator-ka" });

/** Import registers as the RTDS ECS17b SINGLE response carries them: two values of 10 with scaler 0, units 30 and 32. */
const REGISTERS_HEX = "0201020406 0000000A 02020F00161E 06 0000000A 02020F001620".replaceAll(" ", "");

describe("ECS17b protected attributes", () => {
  test("client decrypts the RTDS SINGLE response", () => {
    const response = decodeMessage(readVector(`${ECS17B}_SINGLE_SUCCESS_RESPONSE_GBCS.HEX`)).apdu;

    const values = decryptProtectedAttributes(response, { remoteKaPrivateKey: supplierKa(), deviceKaPublicKey: a0KaPublic() });

    expect(toHex(encodeData(values))).toBe(REGISTERS_HEX);
  });

  test("network operator decrypts the TWIN response", () => {
    const response = decodeMessage(readVector(`${ECS17B}_TWIN_SUCCESS_RESPONSE_GBCS.HEX`)).apdu;

    const values = decryptProtectedAttributes(response, { remoteKaPrivateKey: operatorKa(), deviceKaPublicKey: a0KaPublic() });

    expect(values.type).toBe("structure");
  });

  test("device re-creates the SINGLE response byte for byte", () => {
    const command = decodeMessage(readVector(`${ECS17B}_SINGLE_SUCCESS_COMMAND_GBCS.HEX`)).apdu;
    const expected = readVector(`${ECS17B}_SINGLE_SUCCESS_RESPONSE_GBCS.HEX`);
    const values = decryptProtectedAttributes(decodeMessage(expected).apdu, {
      remoteKaPrivateKey: supplierKa(),
      deviceKaPublicKey: a0KaPublic(),
    });

    const response = buildProtectedAttributesResponse(
      command,
      values,
      { deviceKaPrivateKey: a0KaPrivate(), remoteKaPublicKey: supplierKaPublic() },
      { dateTime: decodeMessage(expected).apdu.dateTime! },
    );
    const bytes = wrapWithMac(response, { senderKaPrivateKey: a0KaPrivate(), peerKaPublicKey: supplierKaPublic() });

    expect(toHex(bytes)).toBe(toHex(expected));
  });

  test("encrypt and decrypt round trip", () => {
    const command = decodeMessage(readVector(`${ECS17B}_SINGLE_SUCCESS_COMMAND_GBCS.HEX`)).apdu;
    const values: DlmsData = {
      type: "structure",
      items: [{ type: "double-long-unsigned", value: 123456789 }, { type: "long64-unsigned", value: 2n ** 40n }],
    };

    const response = buildProtectedAttributesResponse(command, values, {
      deviceKaPrivateKey: a0KaPrivate(),
      remoteKaPublicKey: supplierKaPublic(),
    });
    const decrypted = decryptProtectedAttributes(response, { remoteKaPrivateKey: supplierKa(), deviceKaPublicKey: a0KaPublic() });

    expect(decrypted).toEqual(values);
    expect(toHex(response.content)).not.toContain(toHex(encodeData(values)));
  });

  test("response swaps the protection system titles", () => {
    const command = decodeMessage(readVector(`${ECS17B}_SINGLE_SUCCESS_COMMAND_GBCS.HEX`)).apdu;
    const response = buildProtectedAttributesResponse(command, { type: "null-data" }, {
      deviceKaPrivateKey: a0KaPrivate(),
      remoteKaPublicKey: supplierKaPublic(),
    });

    const content = toHex(response.content);

    expect(content).toContain("090800DB1234567890A0090890B3D51F30010000");
  });

  test("another party's key fails the tag", () => {
    const response = decodeMessage(readVector(`${ECS17B}_SINGLE_SUCCESS_RESPONSE_GBCS.HEX`)).apdu;

    const error = caught(() =>
      decryptProtectedAttributes(response, { remoteKaPrivateKey: operatorKa(), deviceKaPublicKey: a0KaPublic() }),
    );

    expect(error).toBeInstanceOf(GbcsDecryptionError);
    expect(error).toMatchObject({ originator: "00DB1234567890A0" });
  });

  test("ECS52 command is not a protected read", () => {
    const command = decodeMessage(readVector("11.2_ECS52/ECS52_11.2_SUCCESS_COMMAND_GBCS.HEX")).apdu;

    const error = caught(() => readProtectedAttributesRequest(command));

    expect(error).toBeInstanceOf(GbcsDecodeError);
    expect((error as GbcsDecodeError).field).toBe("specification");
  });

  test("error response has no protected data", () => {
    const response = decodeMessage(readVector(`${ECS17B}_ERROR_RESPONSE_GBCS.HEX`)).apdu;

    const error = caught(() =>
      decryptProtectedAttributes(response, { remoteKaPrivateKey: supplierKa(), deviceKaPublicKey: a0KaPublic() }),
    );

    expect(error).toBeInstanceOf(GbcsDecodeError);
  });

  test("response as input is a usage error", () => {
    const response = decodeMessage(readVector(`${ECS17B}_SINGLE_SUCCESS_RESPONSE_GBCS.HEX`)).apdu;

    const error = caught(() =>
      buildProtectedAttributesResponse(response, { type: "null-data" }, {
        deviceKaPrivateKey: a0KaPrivate(),
        remoteKaPublicKey: supplierKaPublic(),
      }),
    );

    expect(error).toBeInstanceOf(GbcsUsageError);
  });
});
