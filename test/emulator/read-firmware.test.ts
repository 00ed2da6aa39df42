import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ZAZ1_FOLDER } from "../../daemon/boot.ts";
import type { Eui } from "../../daemon/duis/eui.ts";
import { GbcsKeys } from "../../daemon/emulator/gbcs-keys.ts";
import { defaultHan } from "../../daemon/emulator/han.ts";
import { firmwareVersionRequest, runEcs52 } from "../../daemon/emulator/use-cases/read-firmware.ts";
import { decodeMessage, toHex, verifyMac } from "../../daemon/gbcs/index.ts";
import { loadOrCreateDeviceCredentials, loadTrustMaterial } from "../../provisioning/devices/index.ts";
import { tempFolder } from "../support/harness.ts";

const RTDS = join(import.meta.dir, "..", "vectors", "gbcs", "rtds-4.5.0", "11.2_ECS52");
const SUPPLIER = "90B3D51F30010000" as Eui;
const ACB = "90B3D51F30000002" as Eui;

function keysFor(folder: string): GbcsKeys {
  const devices = loadOrCreateDeviceCredentials(folder, [{ eui: "00DB1234567890A0", deviceType: "ESME" }], loadTrustMaterial());
  return GbcsKeys.load(ZAZ1_FOLDER, devices);
}

describe("ECS52 read firmware version", () => {
  test("ESME A0 reproduces the RTDS success response byte for byte", () => {
    using folder = tempFolder("ecs52");
    const esme = defaultHan().find((device) => device.eui === "00DB1234567890A0")!;

    const response = runEcs52(esme, { remoteParty: SUPPLIER, counter: 1000n }, keysFor(folder.path));

    expect(toHex(response)).toBe(readFileSync(join(RTDS, "ECS52_11.2_SUCCESS_RESPONSE_GBCS.HEX"), "utf8").trim());
  });

  test("DLMS request content matches the RTDS command", () => {
    const command = decodeMessage(Buffer.from(readFileSync(join(RTDS, "ECS52_11.2_SUCCESS_COMMAND_GBCS.HEX"), "utf8").trim(), "hex"));

    expect(toHex(firmwareVersionRequest(1000n))).toBe(toHex(command.apdu.content));
  });

  test("ACB routing carries the user as supplementary remote party", () => {
    using folder = tempFolder("ecs52-acb");
    const keys = keysFor(folder.path);
    const esme = defaultHan().find((device) => device.eui === "00DB1234567890A0")!;

    const response = decodeMessage(
      runEcs52(esme, { remoteParty: ACB, counter: 1_700_000_000_123n, supplementary: { remotePartyId: SUPPLIER, remotePartyCounter: 42n } }, keys),
    );

    expect(response.apdu.recipient as string).toBe(ACB);
    expect(response.apdu.otherInfo.supplementaryRemotePartyId as string | undefined).toBe(SUPPLIER);
    expect(response.apdu.otherInfo.supplementaryRemotePartyCounter).toBe(42n);
    expect(response.apdu.originatorCounter).toBe(1_700_000_000_123n);
    verifyMac(response, { privateKey: keys.acbKaPrivateKey(), publicKey: keys.deviceKa(esme.eui)!.publicKey });
  });
});
