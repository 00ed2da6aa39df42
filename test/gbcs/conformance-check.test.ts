import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkVector, KeyRing, listVectors } from "./conformance-check.ts";
import { DEVICE_KEY_DIR, ORG_KEYSTORE_PATH, RTDS_DIR } from "./fixtures.ts";

const temp = mkdtempSync(join(tmpdir(), "boxd-gbcs-conformance-"));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const keys = new KeyRing(DEVICE_KEY_DIR, ORG_KEYSTORE_PATH);

/** Writes `hex` as an RTDS-style file and returns its checked result. */
function checkHex(name: string, hex: string) {
  const folder = join(temp, "11.2_ECS52");
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, name), hex);
  const file = listVectors(temp).find((entry) => entry.name === name)!;
  return checkVector(file, keys);
}

const original = (name: string) => readFileSync(join(RTDS_DIR, "11.2_ECS52", name), "utf8").trim();

describe("conformance check", () => {
  test("untouched vector passes every check", () => {
    const result = checkHex("A_SUCCESS_COMMAND_GBCS.HEX", original("ECS52_11.2_SUCCESS_COMMAND_GBCS.HEX"));

    expect(result.decoded).toBe(true);
    expect(result.reencoded).toBe(true);
    expect(result.mac).toEqual({ status: "verified", deviceSide: true });
  });

  test("flipped MAC byte fails the MAC", () => {
    const hex = original("ECS52_11.2_SUCCESS_COMMAND_GBCS.HEX");
    const flipped = `${hex.slice(0, -2)}${hex.endsWith("00") ? "01" : "00"}`;

    const result = checkHex("B_SUCCESS_COMMAND_GBCS.HEX", flipped);

    expect(result.decoded).toBe(true);
    expect(result.mac?.status).toBe("failed");
  });

  test("truncated file does not decode", () => {
    const result = checkHex("C_SUCCESS_RESPONSE_GBCS.HEX", original("ECS52_11.2_SUCCESS_RESPONSE_GBCS.HEX").slice(0, -4));

    expect(result.decoded).toBe(false);
    expect(result.error).toContain("ciphered-service length");
  });

  test("non-minimal BER length decodes but does not re-encode", () => {
    // Content length 0x13 written as 81 13, with the outer lengths grown by one byte to match.
    const hex = original("ECS52_11.2_SUCCESS_COMMAND_GBCS.HEX").replace("DD00000000000047", "DD00000000000048").replace("00020059 13D9".replace(" ", ""), "0002005981 13D9".replace(" ", ""));

    const result = checkHex("D_SUCCESS_COMMAND_GBCS.HEX", hex);

    expect(result.decoded).toBe(true);
    expect(result.reencoded).toBe(false);
  });

  test("file kind comes from the name", () => {
    checkHex("ECS52_11.2_E_ALERT_X_GBCS.HEX", original("ECS52_11.2_SUCCESS_RESPONSE_GBCS.HEX"));

    const kinds = listVectors(temp).map((file) => file.kind);

    expect(kinds).toContain("ALERT");
    expect(kinds).toContain("COMMAND");
  });
});
