import { beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { setLogLevel } from "../../daemon/log.ts";
import { sha256File } from "../../update/install/hash.ts";
import { installUpdate } from "../../update/install/install.ts";
import { markHealthy, readBootState, resolveBootSlot } from "../../update/install/slots.ts";
import type { UpdateTarget } from "../../update/install/target.ts";
import { ImageServer, makeImage, makeTempDir, sha256Hex, targetFor } from "./helpers.ts";

// Power cuts are simulated with SIGKILL of a child process at named points.
// SIGKILL keeps the page cache, so this checks the order of the durable
// steps, not data lost from an unflushed cache.

const MiB = 1024 * 1024;
const V1 = makeImage(MiB, 21);
const V2 = makeImage(4 * MiB + 5, 22);
const FIXTURE = join(import.meta.dir, "power-cut-fixture.ts");

beforeAll(() => setLogLevel("silent"));

async function runFixture(env: Record<string, string>): Promise<{ signal: unknown; lines: string[] }> {
  const child = Bun.spawn([process.execPath, FIXTURE], {
    env: { ...process.env, ...env },
    stdout: "pipe",
    stderr: "inherit",
  });
  const output = await new Response(child.stdout).text();
  await child.exited;
  return { signal: child.signalCode, lines: output.split("\n").filter((line) => line.length > 0) };
}

/** Installs v1 into slot a of `dir` and confirms it healthy. */
async function stateWithV1(dir: string, server: ImageServer): Promise<void> {
  await installUpdate(dir, targetFor(V1, server.url, "1.0.0"));
  resolveBootSlot(dir);
  markHealthy(dir);
}

/** Asserts that the selected slot's image matches its record and is v1 or v2. */
function expectVerifiedSelection(dir: string, expectedVersion: string): void {
  const selection = resolveBootSlot(dir);

  expect(selection.slot).not.toBeNull();
  expect(selection.record?.version).toBe(expectedVersion);
  const actual = sha256File(selection.imagePath!);
  expect(actual.sha256).toBe(selection.record!.sha256);
  expect([sha256Hex(V1), sha256Hex(V2)]).toContain(actual.sha256);
}

describe("power cut during install", () => {
  // Whatever the point, the next start picks a slot whose image verifies.
  // Before the switch that is the old slot, and after it the new one.
  // The last column is the number of requests for the image after the
  // next install: a complete staging file or a recorded slot is reused.
  test.each([
    ["download:1", "1.0.0", 2],
    ["download:50", "1.0.0", 2],
    ["download:100", "1.0.0", 1],
    ["download-verified", "1.0.0", 1],
    ["slot-cleared", "1.0.0", 1],
    ["image-moved", "1.0.0", 2],
    ["slot-recorded", "1.0.0", 1],
    ["switched", "2.0.0", 1],
  ])("kill at %s", async (crashAt, expectedVersion, expectedRequests) => {
    using dir = makeTempDir("cut");
    using server1 = new ImageServer(V1, [{ kind: "serve" }]);
    using server2 = new ImageServer(V2, [{ kind: "serve" }]);
    await stateWithV1(dir.path, server1);
    const target: UpdateTarget = targetFor(V2, server2.url, "2.0.0");

    const run = await runFixture({ BOXD_STATE_DIR: dir.path, BOXD_TARGET: JSON.stringify(target), BOXD_CRASH_AT: crashAt, BOXD_MODE: "install" });

    expect(run.signal).toBe("SIGKILL");
    expectVerifiedSelection(dir.path, expectedVersion);
    if (expectedVersion === "2.0.0") {
      return;
    }

    // The slot being written is not listed, and the next cycle installs the
    // update completely.
    expect(readBootState(dir.path).slots.b?.version ?? null).toBe(crashAt === "slot-recorded" ? "2.0.0" : null);
    const result = await installUpdate(dir.path, target);
    expect(result).toMatchObject({ status: "installed", slot: "b" });
    expectVerifiedSelection(dir.path, "2.0.0");
    expect(server2.requests).toHaveLength(expectedRequests);
  });

  test("resume after a kill sends a Range request", async () => {
    using dir = makeTempDir("cut");
    using server1 = new ImageServer(V1, [{ kind: "serve" }]);
    using server2 = new ImageServer(V2, [{ kind: "serve" }]);
    await stateWithV1(dir.path, server1);
    const target = targetFor(V2, server2.url, "2.0.0");
    await runFixture({ BOXD_STATE_DIR: dir.path, BOXD_TARGET: JSON.stringify(target), BOXD_CRASH_AT: "download:50", BOXD_MODE: "install" });

    await installUpdate(dir.path, target);

    expect(server2.requests).toHaveLength(2);
    expect(server2.requests[1]!.range).toMatch(/^bytes=\d+-$/);
  });

  // The new version dies after each start, before its health report, so
  // the start after the last try runs the old slot.
  test("crashing new version reverts", async () => {
    using dir = makeTempDir("cut");
    using server1 = new ImageServer(V1, [{ kind: "serve" }]);
    using server2 = new ImageServer(V2, [{ kind: "serve" }]);
    await stateWithV1(dir.path, server1);
    await installUpdate(dir.path, targetFor(V2, server2.url, "2.0.0"), { trial: { tries: 2 } });

    const starts: string[] = [];
    for (let i = 0; i < 3; i++) {
      const run = await runFixture({ BOXD_STATE_DIR: dir.path, BOXD_CRASH_AT: "after-start", BOXD_MODE: "start" });
      expect(run.signal).toBe("SIGKILL");
      starts.push(run.lines[0] ?? "");
    }

    expect(starts.map((line) => JSON.parse(line))).toEqual([
      { slot: "b", action: "trial" },
      { slot: "b", action: "trial" },
      { slot: "a", action: "reverted" },
    ]);
    expectVerifiedSelection(dir.path, "1.0.0");
  });
});
