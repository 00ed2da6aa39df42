import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, loadConfig } from "../../daemon/config/load.ts";
import { tempFolder } from "../support/harness.ts";

describe("configuration", () => {
  test("embedded defaults", () => {
    const config = loadConfig(undefined, {});

    expect(config.duis.port).toBe(8079);
    expect(config.smki.port).toBe(8083);
    expect(config.duis.validateSignatures).toBe(true);
    expect(config.gbcs.responseRouting).toBe("originator");
  });

  test("file then environment override defaults", () => {
    using folder = tempFolder("config");
    const path = join(folder.path, "boxd.json");
    writeFileSync(path, JSON.stringify({ duis: { port: 9000, validateSignatures: false }, receiver: { url: "10.0.0.5:1880/smartdcc/duis" } }));

    const config = loadConfig(path, { BOXD_DUIS_PORT: "9001" });

    expect(config.duis.port).toBe(9001);
    expect(config.duis.validateSignatures).toBe(false);
    expect(config.receiver.url).toBe("10.0.0.5:1880/smartdcc/duis");
  });

  test.each([
    ["unknown file key", { duis: { prot: 1 } }, {}, "duis.prot", "unknown setting duis.prot"],
    ["unknown section", { dius: { port: 1 } }, {}, "dius", "unknown setting dius"],
    ["port out of range", { duis: { port: 70000 } }, {}, "duis.port", "expected an integer from 0 to 65535"],
    ["boolean as text in file", { duis: { validateSignatures: "yes" } }, {}, "duis.validateSignatures", "expected true or false"],
    ["enum value", { gbcs: { responseRouting: "dsp" } }, {}, "gbcs.responseRouting", "expected one of originator, acb"],
    ["role list", { duis: { users: { "90B3D51F30010001": ["XX"] } } }, {}, "duis.users", "list of roles"],
    ["unknown environment variable", {}, { BOXD_DUIS_PROT: "1" }, "BOXD_DUIS_PROT", "unknown variable BOXD_DUIS_PROT"],
    ["environment integer", {}, { BOXD_RECEIVER_REQUEST_TIMEOUT_MS: "fast" }, "receiver.requestTimeoutMs", "(ms)"],
  ])("%s stops the boot", (_, file, environment, key, message) => {
    using folder = tempFolder("config-bad");
    const path = join(folder.path, "boxd.json");
    writeFileSync(path, JSON.stringify(file));

    let caught: unknown;
    try {
      loadConfig(path, environment);
    } catch (error) {
      caught = error;
    }

    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).key).toBe(key);
    expect((caught as ConfigError).message).toContain(message);
  });
});
