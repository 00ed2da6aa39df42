/**
 * The seam between the update client and the installer's downloader: the
 * verified target from plan() is downloaded over loopback HTTP by
 * `downloadTarget`, which checks the signed length and SHA-256.
 */
import { afterEach, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { HashMismatch, downloadTarget } from "../../update/install/index.ts";
import { createHarness, type Harness } from "./harness.ts";

let harness: Harness | undefined;

afterEach(() => {
  harness?.cleanup();
  harness = undefined;
});

async function installPlan(h: Harness) {
  const plan = await h.client().plan();
  if (plan.action !== "install") throw new Error(`expected an install plan, got ${plan.action}`);
  return plan.target;
}

test("planned target downloads and verifies", async () => {
  harness = createHarness();
  const target = await installPlan(harness);
  const stagingDir = join(harness.folder, "staging");

  const path = await downloadTarget(target, { stagingDir });

  expect(readFileSync(path, "utf8")).toBe("full 2.4.0 current\n");
});

test("19 image substituted at the target URL is not staged", async () => {
  harness = createHarness();
  const target = await installPlan(harness);
  const stagingDir = join(harness.folder, "staging");
  const path = new URL(target.url).pathname.slice(1);
  // Another board's image of the same length, served where the signed one should be.
  harness.server.overrides.set(decodeURIComponent(path), { kind: "bytes", bytes: new TextEncoder().encode("full 2.4.0 othrbrd\n") });

  const error = await downloadTarget(target, { stagingDir }).catch((caught: unknown) => caught);

  expect(error).toBeInstanceOf(HashMismatch);
  expect(existsSync(join(stagingDir, "image.partial"))).toBe(false);
});
