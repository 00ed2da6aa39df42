import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { buildBinary, runtimeFiles } from "../../bench/build.ts";
import { postDuis, responseCode, signedReadInventory, spawnDaemon, stopDaemon } from "../../bench/compiled-start.ts";
import { IS_COMPILED, RUNTIME_ROOT, runtimePath } from "../../daemon/runtime-files.ts";

const REPOSITORY = resolve(import.meta.dir, "..", "..");

/**
 * Limit of the build and of a daemon test, in milliseconds. Both take about
 * a second on two idle cores, and several times that when other jobs load them.
 */
const SLOW_STEP_TIMEOUT_MS = 30_000;

// The suite builds once into a temp folder.
let work: string;
let binary: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "boxd-build-test-"));
  binary = join(work, "dist", "boxd");
  await buildBinary(binary);
}, SLOW_STEP_TIMEOUT_MS);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe("runtime files", () => {
  test("resolve to the source tree under bun", () => {
    expect(IS_COMPILED).toBe(false);
    expect(RUNTIME_ROOT).toBe(REPOSITORY);
    expect(existsSync(runtimePath("daemon", "duis", "schema", "duis-5.4.xsd"))).toBe(true);
  });

  test("build embeds schema and trust files", () => {
    const relative = runtimeFiles().map((path) => path.slice(REPOSITORY.length + 1));
    expect(relative).toContain("daemon/duis/schema/duis-5.4.xsd");
    expect(relative).toContain("provisioning/trust/zaz1/keystore.json");
    expect(relative).toContain("provisioning/trust/zaz1/dsp-xml-sign-90B3D51F30000002-ds.key");
    expect(relative).toContain("provisioning/trust/rtds/00db1234567890a0-ka.key");
  });
});

describe("compiled binary", () => {
  test("writes a source map beside it", () => {
    expect(existsSync(binary)).toBe(true);
    expect(existsSync(`${binary}.map`)).toBe(true);
  });

  test("prints help and exits 0", () => {
    const run = Bun.spawnSync([binary, "--help"], { cwd: work, env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
    expect(run.exitCode).toBe(0);
    expect(run.stdout.toString()).toContain("--config FILE");
    expect(run.stdout.toString()).toContain("BOXD_DUIS_PORT");
  });

  test("rejects an unknown argument with exit 2", () => {
    const run = Bun.spawnSync([binary, "--no-such-option"], { cwd: work, env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
    expect(run.exitCode).toBe(2);
    expect(run.stderr.toString()).toContain("unknown argument --no-such-option");
  });

  test("answers a signed 8.2 request", async () => {
    const folder = mkdtempSync(join(work, "run-"));
    // An autoloaded .env would stop the boot, because boxd rejects unknown BOXD_ variables.
    writeFileSync(join(folder, ".env"), "BOXD_NOT_A_SETTING=1\n");

    const daemon = spawnDaemon([binary], folder);
    try {
      await daemon.ready;
      const text = await postDuis(daemon.duisPort, signedReadInventory(BigInt(Date.now())));

      expect(responseCode(text)).toBe("I0");
      expect(text).toContain("00-DB-12-34-56-78-90-A2");
      expect(text).toContain("<ds:SignatureValue>");
    } finally {
      await stopDaemon(daemon);
    }

    expect(daemon.process.exitCode).toBe(0);
    const keystore = daemon.logLines.find((line) => line.ns === "gbcs.keystore");
    expect(String(keystore?.source)).toStartWith("/$bunfs/root/provisioning/trust/zaz1/");
  }, SLOW_STEP_TIMEOUT_MS);
});
