import { afterEach, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { PortInUse, startBoxd, type Boxd } from "../../daemon/boot.ts";
import { SWITCHES_FILE } from "../../daemon/config/switches.ts";
import { DEVELOPMENT_ADMIN_TOKEN_FILE } from "../../provisioning/index.ts";
import { ResponseCode } from "../../daemon/duis/codes.ts";
import { postDuis, runBoxd, tempFolder, testConfig } from "../support/harness.ts";
import { readTemplate } from "../support/java-tool.ts";
import { World } from "../integration/world.ts";

let world: World | undefined;
let boxd: Boxd | undefined;

afterEach(async () => {
  await boxd?.stop();
  boxd = undefined;
  await world?.close();
  world = undefined;
});

test.each([
  ["no header", null],
  ["wrong token", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"],
  ["not a bearer token", "Basic dXNlcjpwYXNz"],
  ["empty bearer", ""],
])("%s is rejected with 401", async (_, token) => {
  const w = (world = await World.create());
  const box = (boxd = await w.start());

  const headers: Record<string, string> = token === null ? {} : { Authorization: token.startsWith("Basic") ? token : `Bearer ${token}` };
  for (const [method, path] of [["GET", "/status"], ["POST", "/update/check"], ["PUT", "/duis/signature-validation"], ["POST", "/lock/refresh"]] as const) {
    const response = await fetch(`http://127.0.0.1:${box.ports.admin}${path}`, { method, headers });
    expect({ path, status: response.status }).toEqual({ path, status: 401 });
    expect(response.headers.get("www-authenticate")).toBe('Bearer realm="boxd"');
    expect(((await response.json()) as { error: string }).error).toBe("Unauthorized");
  }
  expect(w.checkIns.length).toBe(1);
});

test("status reports every part", async () => {
  const w = (world = await World.create());
  const box = (boxd = await w.start());

  const status = await w.api(box, "GET", "/status");

  expect(status.status).toBe(200);
  expect(status.body).toEqual({
    version: "0.1.0",
    mode: "factory",
    deviceId: "boxd-integration-0001",
    ports: box.ports,
    lock: { locked: false, sequence: 0, message: "", contact: "", mode: "online", refreshIntervalMs: 300_000 },
    pendingResponses: 0,
    duisSignatureValidation: true,
    updates: { enabled: true, channel: "current", pin: null, installed: "0.1.0 (counter 0)" },
    slots: { running: { slot: null, version: null, action: "none", triesLeft: null }, next: { slot: null, version: null, onTrial: false } },
  });
});

test("signature validation switch survives a restart", async () => {
  const w = (world = await World.create());
  let box = (boxd = await w.start());

  const set = await w.api(box, "PUT", "/duis/signature-validation", { enabled: false });
  expect(set.body).toEqual({ enabled: false });
  expect(JSON.parse(readFileSync(`${w.stateDir}/${SWITCHES_FILE}`, "utf8"))).toEqual({ duisValidateSignatures: false });

  await box.stop();
  box = boxd = await w.start();

  expect((await w.api(box, "GET", "/duis/signature-validation")).body).toEqual({ enabled: false });
  expect((await w.api(box, "GET", "/status")).body.duisSignatureValidation).toBe(false);
});

test("HAN devices are listed", async () => {
  const w = (world = await World.create());
  const box = (boxd = await w.start());

  const answer = await w.api(box, "GET", "/han/devices");

  expect(answer.status).toBe(200);
  expect(answer.body.devices.map((device: { eui: string }) => device.eui)).toContain("00DB1234567890A0");
  expect(answer.body.devices.length).toBe(box.inventory.all().length);
});

test.each([
  ["body not JSON", "PUT", "/duis/signature-validation", "{", 400, "ApiRequestInvalid", "body"],
  ["switch not boolean", "PUT", "/duis/signature-validation", { enabled: "off" }, 400, "ApiRequestInvalid", "enabled"],
  ["unknown channel", "PUT", "/update/channel", { channel: "beta" }, 400, "ApiRequestInvalid", "channel"],
  ["pin missing", "PUT", "/update/pin", {}, 400, "ApiRequestInvalid", "version"],
  ["pin not semver", "PUT", "/update/pin", { version: "latest" }, 400, "InvalidArgument", undefined],
  ["downgrade flag not boolean", "POST", "/update/install", { confirmDowngrade: "yes" }, 400, "ApiRequestInvalid", "confirmDowngrade"],
  ["unknown endpoint", "GET", "/update/everything", undefined, 404, "NotFound", undefined],
])("%s is answered with its error", async (_, method, path, body, status, error, field) => {
  const w = (world = await World.create());
  const box = (boxd = await w.start());

  const answer = await w.api(box, method, path, body);

  expect(answer.status).toBe(status);
  expect(answer.body.error).toBe(error);
  expect(answer.body.field).toBe(field);
  expect(answer.body.message.length).toBeGreaterThan(20);
});

test.each([
  { name: "unknown version", channel: "current", version: "9.9.9", available: "1.1.0, 1.0.0" },
  { name: "version of other channel", channel: "upcoming", version: "1.1.0", available: "2.0.0" },
])("pin refuses $name", async ({ channel, version, available }) => {
  const w = (world = await World.create());
  const box = (boxd = await w.start());
  await w.api(box, "PUT", "/update/channel", { channel });

  const pinned = await w.api(box, "PUT", "/update/pin", { version });
  const status = await w.api(box, "GET", "/status");

  expect(pinned.status).toBe(409);
  expect(pinned.body).toMatchObject({ error: "PinnedVersionNotFound", fault: "caller" });
  expect(pinned.body.message).toContain(`Version ${version} is not listed on channel ${channel}`);
  expect(pinned.body.message).toContain(`Versions available on ${channel}: ${available}.`);
  expect(status.body.updates.pin).toBeNull();
});

test("status shows the pin", async () => {
  const w = (world = await World.create());
  const box = (boxd = await w.start());

  const pinned = await w.api(box, "PUT", "/update/pin", { version: "1.0.0" });
  const status = await w.api(box, "GET", "/status");

  expect(pinned.status).toBe(200);
  expect(status.body.updates).toMatchObject({ channel: "current", pin: "1.0.0" });
});

test("development mode runs with updates off", async () => {
  using folder = tempFolder("api-development");
  await using box = await runBoxd(testConfig(folder.path));
  const token = readFileSync(`${folder.path}/${DEVELOPMENT_ADMIN_TOKEN_FILE}`, "utf8").trim();
  const call = (method: string, path: string) =>
    fetch(`http://127.0.0.1:${box.ports.admin}${path}`, { method, headers: { Authorization: `Bearer ${token}` } });

  const status = (await (await call("GET", "/status")).json()) as Record<string, any>;
  const check = await call("POST", "/update/check");

  expect(status).toMatchObject({ mode: "development", lock: { locked: false, mode: "none" }, updates: { enabled: false } });
  expect(check.status).toBe(409);
  expect(await check.json()).toMatchObject({ error: "UpdatesOff", message: expect.stringContaining("provisioning/factory.ts") });
});

test("cleared repository settings keep a locked box locked", async () => {
  const w = (world = await World.create());
  w.lock();
  await (await w.start()).stop();

  const box = (boxd = await w.start({ BOXD_UPDATE_METADATA_URL: "", BOXD_LOCK_CHECK_IN_URL: "" }));
  const check = await w.api(box, "POST", "/update/check");
  const duis = await fetch(`http://127.0.0.1:${box.ports.duis}/api/v1/serviceD`, { method: "POST", headers: { "Content-Type": "application/xml" }, body: "<x/>" });

  expect((await w.api(box, "GET", "/lock")).body).toMatchObject({ locked: true, mode: "offline", sequence: 1 });
  expect(check.status).toBe(423);
  expect(duis.status).toBe(503);
});

test("factory box without a repository reports updates off", async () => {
  const w = (world = await World.create());
  const box = (boxd = await w.start({ BOXD_UPDATE_METADATA_URL: "", BOXD_UPDATE_TARGETS_URL: "" }));

  const check = await w.api(box, "POST", "/update/check");

  expect(check.status).toBe(409);
  expect(check.body).toMatchObject({ error: "UpdatesOff", message: expect.stringContaining("BOXD_UPDATE_METADATA_URL") });
});

test("signature switch applies to the next DUIS request", async () => {
  const w = (world = await World.create());
  const box = (boxd = await w.start());
  const unsigned = readTemplate("8.2_READ_INVENTORY_REQUEST_DUIS.XML").replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, "");
  const responseCode = async () => /<sr:ResponseCode>([^<]+)</.exec(await (await postDuis(box.ports.duis, "D", unsigned)).text())?.[1];

  expect(await responseCode()).toBe(ResponseCode.notAuthenticated);
  await w.api(box, "PUT", "/duis/signature-validation", { enabled: false });

  expect(await responseCode()).not.toBe(ResponseCode.notAuthenticated);
});

test("port in use names the setting", async () => {
  using folder = tempFolder("api-port-in-use");
  const occupant = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(null) });

  try {
    const starting = startBoxd(testConfig(folder.path, { BOXD_DUIS_PORT: String(occupant.port) }));

    await expect(starting).rejects.toBeInstanceOf(PortInUse);
    await expect(starting).rejects.toMatchObject({ server: "DUIS gateway", port: occupant.port, setting: "duis.port", environmentVariable: "BOXD_DUIS_PORT" });
    await expect(starting).rejects.toThrow("set duis.port (BOXD_DUIS_PORT) to a free port");
  } finally {
    await occupant.stop(true);
  }
});

test("failed boot closes what it opened", async () => {
  using folder = tempFolder("api-port-cleanup");
  const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(null) });
  const duisPort = probe.port!;
  await probe.stop(true);
  const occupant = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(null) });

  try {
    const starting = startBoxd(testConfig(folder.path, { BOXD_DUIS_PORT: String(duisPort), BOXD_ADMIN_PORT: String(occupant.port) }));
    await expect(starting).rejects.toMatchObject({ server: "admin API", setting: "admin.port" });

    // The DUIS port is free again: a new server can take it.
    const again = Bun.serve({ hostname: "127.0.0.1", port: duisPort, fetch: () => new Response(null) });
    expect(again.port).toBe(duisPort);
    await again.stop(true);
  } finally {
    await occupant.stop(true);
  }
});
