import { afterEach, expect, test } from "bun:test";
import { run } from "../../update/cli.ts";
import { HARDWARE_ID, createHarness, type Harness } from "./harness.ts";

let harness: Harness | undefined;

/** Creates a harness re-signed at the real time, because the command line uses the real clock. */
function setUp(): Harness {
  harness = createHarness();
  harness.clock.now = new Date();
  harness.repo.resignRoot(harness.clock.now);
  harness.publish();
  return harness;
}

afterEach(() => {
  harness?.cleanup();
  harness = undefined;
});

async function cli(h: Harness, ...argv: string[]): Promise<{ code: number; json: Record<string, unknown> | undefined; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const common = [
    "--dir", h.clientFolder,
    "--metadata-url", `${h.server.baseUrl}/metadata/`,
    "--targets-url", `${h.server.baseUrl}/targets`,
    "--hardware-id", HARDWARE_ID,
    "--duis", "5.1",
    "--gbcs", "4.0",
    "--running-version", "2.3.1",
    "--running-counter", "23",
  ];
  const code = await run([...argv, ...common], (line) => out.push(line), (line) => err.push(line));
  return { code, json: out.length === 0 ? undefined : JSON.parse(out.join("\n")), err: err.join("\n") };
}

test("check reports the latest release", async () => {
  const h = setUp();

  const result = await cli(h, "check");

  expect(result.code).toBe(0);
  expect(result.json).toMatchObject({ channel: "current", latest: "2.4.0 (counter 24)", decision: { action: "install", release: "2.4.0 (counter 24)" } });
});

test("pin to an unlisted version is refused", async () => {
  const h = setUp();

  const pinned = await cli(h, "pin", "2.2.0");
  const plan = await cli(h, "plan");

  expect(pinned.code).toBe(1);
  expect(JSON.parse(pinned.err)).toMatchObject({ error: "PinnedVersionNotFound", fault: "caller", message: expect.stringContaining("2.4.0, 2.3.1") });
  expect(plan.code).toBe(0);
  expect(plan.json).toMatchObject({ action: "install", target: { name: "current/boxd-2.4.0.img" } });
});

test("plan prints the target for the installer", async () => {
  const h = setUp();

  const result = await cli(h, "plan");

  expect(result.code).toBe(0);
  expect(result.json).toMatchObject({ action: "install", downgrade: false, target: { name: "current/boxd-2.4.0.img", length: 19 } });
});

test("unknown command is a usage error", async () => {
  const h = setUp();

  const result = await cli(h, "frobnicate");

  expect(result.code).toBe(2);
  expect(result.err).toContain('Unknown command "frobnicate".');
});
