/**
 * Attacks and user flows around releases: the installed-release floor,
 * wrong hardware, revocation, pinning and channels. Each runs against a
 * real vendor repository served over loopback HTTP.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { UpdateClient } from "../../update/client/client.ts";
import type { UpdateTarget } from "../../update/install/target.ts";
import {
  DowngradeRefused,
  PinnedVersionNotFound,
  ReleaseFieldMismatch,
  ReleaseNotApplicable,
  ReleaseRevoked,
} from "../../update/tuf/errors.ts";
import type { JsonObject } from "../../update/tuf/json.ts";
import { HARDWARE_ID, createHarness, serveForgedChain, rejection, fieldsOf, targetRequests, type Harness } from "./harness.ts";

let harness: Harness | undefined;

afterEach(() => {
  harness?.cleanup();
  harness = undefined;
});

function setUp(options: Parameters<typeof createHarness>[0] = {}): Harness {
  harness = createHarness(options);
  return harness;
}

describe("release floor", () => {
  test("16 lower counter on current is no update", async () => {
    const h = setUp({ skipReleases: true });
    h.addRelease({ version: "1.1.0", counter: 11 });
    h.publish();
    const client = h.client({ running: { version: "1.2.0", counter: 12 } });

    const report = await client.check();
    await client.pin("1.1.0");
    const error = await rejection(() => client.plan());

    expect(report.decision).toEqual({ action: "none", reason: "channel-behind-installed", latest: report.latest! });
    expect(report.latest?.counter).toBe(11);
    expect(error).toBeInstanceOf(DowngradeRefused);
    expect(fieldsOf(error)).toEqual(fieldsOf(new DowngradeRefused(12, 11, "not signed")));
    expect(client.state().installed).toEqual({ version: "1.2.0", counter: 12 });
  });

  test("16 floor follows a newer running release", async () => {
    const h = setUp();
    const planned = await h.client().plan();
    if (planned.action !== "install") throw new Error(`expected an install plan, got ${planned.action}`);
    h.client().recordInstalled(planned.target);
    const reflashed = h.client({ running: { version: "2.6.0", counter: 26 } });

    const report = await reflashed.check();

    expect(report.floor).toEqual({ version: "2.6.0", counter: 26 });
    expect(report.decision).toMatchObject({ action: "none", reason: "channel-behind-installed", latest: { version: "2.4.0" } });
  });

  test("16 lower counter with a signed downgrade needs confirmation", async () => {
    const h = setUp({ skipReleases: true });
    h.addRelease({ version: "1.1.0", counter: 11, downgradeFrom: [12] });
    h.publish();
    const client = h.client({ running: { version: "1.2.0", counter: 12 } });

    const unconfirmed = await client.plan();
    const confirmed = await client.plan({ confirmDowngrade: true });

    expect(unconfirmed.action).toBe("confirm-downgrade");
    expect(confirmed).toMatchObject({ action: "install", downgrade: true, target: { name: "current/boxd-1.1.0.img" } });
  });
});

describe("wrong software", () => {
  test("19 release for another board is not offered", async () => {
    const h = setUp();
    h.addRelease({ version: "2.5.0", counter: 25, hardwareIds: ["other-board"] });
    h.publish();
    const client = h.client();

    const report = await client.check();
    const error = await rejection(() => client.pin("2.5.0"));

    expect(report.latest?.version).toBe("2.4.0");
    expect(client.state().pin).toBeUndefined();
    expect(error).toBeInstanceOf(ReleaseNotApplicable);
    expect(fieldsOf(error)).toEqual(fieldsOf(new ReleaseNotApplicable("2.5.0", "hardwareIds", HARDWARE_ID)));
    expect(targetRequests(h)).toEqual([]);
  });

  test("31 upcoming release listed under current is rejected", async () => {
    const h = setUp();
    h.addRelease({ version: "2.5.0-rc1", counter: 25, channel: "upcoming" });
    h.publish();
    serveForgedChain(h, {
      targets: {
        edit: (signed) => {
          const targets = signed.targets as JsonObject;
          targets["current/boxd-2.5.0-rc1.img"] = targets["upcoming/boxd-2.5.0-rc1.img"]!;
        },
      },
    });
    const client = h.client();

    const report = await client.check();
    const plan = await client.plan();

    expect(report.rejected.map((item) => item.name)).toEqual(["current/boxd-2.5.0-rc1.img"]);
    expect(report.rejected[0]?.error).toBeInstanceOf(ReleaseFieldMismatch);
    expect(fieldsOf(report.rejected[0]!.error)).toEqual(fieldsOf(new ReleaseFieldMismatch("current/boxd-2.5.0-rc1.img", "channel", "current", "upcoming")));
    expect(plan).toMatchObject({ action: "install", target: { name: "current/boxd-2.4.0.img" } });
  });
});

describe("pinning and channels", () => {
  test("27 pinned version reports newer release", async () => {
    const h = setUp();
    const client = h.client();

    const report = await client.pin("2.3.1");
    const plan = await client.plan();

    expect(report.pin).toBe("2.3.1");
    expect(report.newerThanPin.map((release) => release.version)).toEqual(["2.4.0"]);
    expect(report.decision).toEqual({ action: "none", reason: "up-to-date" });
    expect(plan).toEqual({ action: "none", reason: "up-to-date" });
    expect(targetRequests(h)).toEqual([]);
  });

  test("28 pin to a withdrawn version", async () => {
    const h = setUp();
    h.addRelease({ version: "2.2.0", counter: 22 });
    h.publish();
    const client = h.client();
    await client.pin("2.2.0");
    h.repo.removeTarget("current/boxd-2.2.0.img");
    h.publish();

    const report = await client.check();
    const error = await rejection(() => client.plan());

    expect(report.decision).toEqual({ action: "error", error: expect.any(PinnedVersionNotFound) });
    expect(error).toBeInstanceOf(PinnedVersionNotFound);
    expect(fieldsOf(error)).toEqual(fieldsOf(new PinnedVersionNotFound("2.2.0", "current", ["2.4.0", "2.3.1"])));
    expect(client.state().installed).toEqual({ version: "2.3.1", counter: 23 });
    expect(targetRequests(h)).toEqual([]);
  });

  test("29 switch to upcoming installs the release candidate", async () => {
    const h = setUp();
    h.addRelease({ version: "2.5.0-rc1", counter: 25, channel: "upcoming" });
    h.publish();
    const client = h.client({ running: { version: "2.4.0", counter: 24 } });

    const report = await client.followChannel("upcoming");
    const plan = await client.plan();
    if (plan.action !== "install") throw new Error(`expected an install plan, got ${plan.action}`);
    client.recordInstalled(plan.target);

    // The installer's input type; this line stops compiling if the seam drifts.
    const installerInput: UpdateTarget = plan.target;
    expect(installerInput.custom).toMatchObject({ version: "2.5.0-rc1", counter: 25, kind: "full", channel: "upcoming" });
    expect(report.latest?.version).toBe("2.5.0-rc1");
    expect(plan.target.name).toBe("upcoming/boxd-2.5.0-rc1.img");
    expect(plan.downgrade).toBe(false);
    expect(client.state().installed).toEqual({ version: "2.5.0-rc1", counter: 25 });
  });

  test("30 back to current waits, then takes a confirmed signed downgrade", async () => {
    const h = setUp();
    h.addRelease({ version: "2.5.0-rc1", counter: 25, channel: "upcoming" });
    h.publish();
    const client = h.client({ running: { version: "2.5.0-rc1", counter: 25 } });

    const waiting = await client.followChannel("current");
    const waitingPlan = await client.plan({ confirmDowngrade: true });
    h.addRelease({ version: "2.4.0", counter: 24, downgradeFrom: [25] });
    h.publish();
    const offered = await client.plan();
    const confirmed = await client.plan({ confirmDowngrade: true });
    if (confirmed.action !== "install") throw new Error(`expected an install plan, got ${confirmed.action}`);
    client.recordInstalled(confirmed.target);

    expect(waiting.decision).toMatchObject({ action: "none", reason: "channel-behind-installed", latest: { version: "2.4.0" } });
    expect(waitingPlan).toMatchObject({ action: "none", reason: "channel-behind-installed" });
    expect(offered).toMatchObject({ action: "confirm-downgrade", target: { name: "current/boxd-2.4.0.img" } });
    // recordInstalled runs once the new release is committed, so the box now runs 2.4.0.
    const afterReboot = h.client({ running: { version: "2.4.0", counter: 24 } });
    expect(confirmed.downgrade).toBe(true);
    expect(afterReboot.state().installed).toEqual({ version: "2.4.0", counter: 24 });
  });

  test("30 back to current installs once current catches up", async () => {
    const h = setUp();
    const client = h.client({ running: { version: "2.5.0-rc1", counter: 25 } });
    await client.followChannel("current");
    h.addRelease({ version: "2.5.0", counter: 26 });
    h.publish();

    const plan = await client.plan();

    expect(plan).toMatchObject({ action: "install", downgrade: false, target: { name: "current/boxd-2.5.0.img" } });
  });

  test("revoked release is never planned", async () => {
    const h = setUp();
    h.repo.revokeRelease("2.4.0", "corrupts meter data");
    h.publish();
    const client = h.client({ running: { version: "2.4.0", counter: 24 } });

    const report = await client.check();
    const error = await rejection(() => client.pin("2.4.0"));

    expect(client.state().pin).toBeUndefined();
    expect(report.installedRevoked).toBe(true);
    expect(report.latest?.version).toBe("2.3.1");
    expect(error).toBeInstanceOf(ReleaseRevoked);
    expect(fieldsOf(error)).toEqual(fieldsOf(new ReleaseRevoked("2.4.0", "corrupts meter data")));
  });

  test("config patch floor moves per DUIS/GBCS pair", async () => {
    const h = setUp();
    h.addRelease({ version: "1.0.0", counter: 1, kind: "config-patch" });
    h.addRelease({ version: "9.0.0", counter: 9, kind: "config-patch", duisVersions: ["4.0"], gbcsVersions: ["3.2"] });
    h.publish();
    const client = h.client();

    const planned = await client.planConfigPatches();
    client.recordInstalled(planned[0]!);
    const afterRecord = await client.planConfigPatches();

    expect(planned.map((target) => target.name)).toEqual(["current/config-1.0.0.json"]);
    expect(client.state().patchFloors).toEqual({ "config-patch:duis-5.1:gbcs-4.0": 1 });
    expect(afterRecord).toEqual([]);
  });

  test("recordInstalled rejects an unsigned downgrade", async () => {
    const h = setUp();
    const client = h.client({ running: { version: "2.5.0", counter: 26 } });
    const otherFolder = join(h.folder, "other-client");
    UpdateClient.initialize(otherFolder, h.repo.rootBytes());
    const plan = await h.client({ folder: otherFolder }).plan();
    if (plan.action !== "install") throw new Error(`expected an install plan, got ${plan.action}`);

    let error: unknown;
    try {
      client.recordInstalled(plan.target);
    } catch (caught) {
      error = caught;
    }

    expect(error).toBeInstanceOf(DowngradeRefused);
    expect(fieldsOf(error as Error)).toEqual(fieldsOf(new DowngradeRefused(26, 24, "not signed")));
    expect(client.state().installed).toEqual({ version: "2.5.0", counter: 26 });
  });
});
