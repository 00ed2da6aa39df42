import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, loadConfig } from "../../daemon/config/load.ts";
import { tempFolder } from "../support/harness.ts";

describe("configuration", () => {
  test("config file that is not JSON names the parse error", () => {
    using folder = tempFolder("config-json");
    const path = join(folder.path, "boxd.json");
    writeFileSync(path, '{"duis": {"port": 1,}}');

    expect(() => loadConfig(path, {})).toThrow("the config file is not valid JSON (JSON Parse error:");
  });

  test("embedded defaults", () => {
    const config = loadConfig(undefined, {});

    expect(config.duis.port).toBe(8079);
    expect(config.smki.port).toBe(8083);
    expect(config.duis.validateSignatures).toBe(true);
    expect(config.gbcs.responseRouting).toBe("originator");
  });

  test("updates and lock are off by default", () => {
    const config = loadConfig(undefined, {});

    expect(config.update).toEqual({ metadataUrl: "", targetsUrl: "", hardwareId: "generic-x86_64", autoInstall: "manual" });
    expect(config.lock).toEqual({ checkInUrl: "", refreshIntervalMs: 300_000, bootRefreshTimeoutMs: 10_000 });
    expect(config.admin).toEqual({ host: "127.0.0.1", port: 8090 });
  });

  test("update and lock environment variables", () => {
    const config = loadConfig(undefined, {
      BOXD_UPDATE_METADATA_URL: "http://127.0.0.1:8000/repo/metadata/",
      BOXD_UPDATE_TARGETS_URL: "http://127.0.0.1:8000/repo/targets",
      BOXD_UPDATE_HARDWARE_ID: "nuc-11-pro",
      BOXD_UPDATE_AUTO_INSTALL: "automatic",
      BOXD_LOCK_CHECK_IN_URL: "http://127.0.0.1:8000/dcc/check-in",
      BOXD_LOCK_REFRESH_INTERVAL_MS: "60000",
      BOXD_LOCK_BOOT_REFRESH_TIMEOUT_MS: "2000",
    });

    expect(config.update).toEqual({
      metadataUrl: "http://127.0.0.1:8000/repo/metadata",
      targetsUrl: "http://127.0.0.1:8000/repo/targets",
      hardwareId: "nuc-11-pro",
      autoInstall: "automatic",
    });
    expect(config.lock).toEqual({ checkInUrl: "http://127.0.0.1:8000/dcc/check-in", refreshIntervalMs: 60_000, bootRefreshTimeoutMs: 2000 });
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
    ["receiver with another scheme", {}, { BOXD_RECEIVER_URL: "ftp://x" }, "receiver.url", "host:port/path with or without http://"],
    ["receiver port out of range", {}, { BOXD_RECEIVER_URL: "127.0.0.1:99999/x" }, "receiver.url", "host:port/path"],
    ["receiver with a space", {}, { BOXD_RECEIVER_URL: "not a url" }, "receiver.url", "host:port/path"],
    ["log level", {}, { BOXD_LOG_LEVEL: "verbose" }, "log.level", "expected one of fatal, error, warn, info, debug, trace, silent"],
    ["update URL without scheme", { update: { metadataUrl: "updates.example.com/metadata" } }, {}, "update.metadataUrl", 'or "" to turn it off'],
    ["update URL with another scheme", {}, { BOXD_UPDATE_TARGETS_URL: "ftp://127.0.0.1/targets" }, "update.targetsUrl", "an http or https URL"],
    ["check-in URL not text", { lock: { checkInUrl: 5 } }, {}, "lock.checkInUrl", "an http or https URL"],
    ["auto-install value", {}, { BOXD_UPDATE_AUTO_INSTALL: "always" }, "update.autoInstall", "one of manual, automatic"],
    ["hardware id with a slash", { update: { hardwareId: "a/b" } }, {}, "update.hardwareId", "invalid value"],
    ["lock interval too short", {}, { BOXD_LOCK_REFRESH_INTERVAL_MS: "10" }, "lock.refreshIntervalMs", "from 1000 to 86400000 (ms)"],
    ["boot refresh timeout", { lock: { bootRefreshTimeoutMs: 0 } }, {}, "lock.bootRefreshTimeoutMs", "(ms)"],
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
