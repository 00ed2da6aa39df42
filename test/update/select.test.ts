import { expect, test } from "bun:test";
import type { Release } from "../../update/client/release.ts";
import { decideFullRelease, type RunningRelease, type SelectionInput } from "../../update/client/select.ts";
import { DowngradeRefused } from "../../update/tuf/errors.ts";

const HARDWARE_ID = "boxd-select-bench";

function release(version: string, counter: number, downgradeFrom: number[] = []): Release {
  return {
    kind: "full",
    version,
    counter,
    channel: "current",
    hardwareIds: [HARDWARE_ID],
    duisVersions: ["5.4"],
    gbcsVersions: ["4.2"],
    downgradeFrom,
    name: `current/boxd-${version}.img`,
    length: 1,
    sha256: "0".repeat(64),
    custom: {},
  };
}

/** Floor 2.0.0 (counter 20), as a rollback from 2.0.0 to 1.1.0 leaves it. */
function input(releases: Release[], running: RunningRelease | undefined, pin?: string): SelectionInput {
  return {
    releases,
    channel: "current",
    pin,
    installed: { version: "2.0.0", counter: 20 },
    device: { hardwareId: HARDWARE_ID, duisVersions: ["5.4"], gbcsVersions: ["4.2"] },
    ...(running === undefined ? {} : { running }),
  };
}

test.each([
  { name: "floor release runs", running: { version: "2.0.0", counter: 20 }, pin: undefined, expected: { action: "none", reason: "up-to-date" } },
  { name: "running unknown", running: undefined, pin: undefined, expected: { action: "none", reason: "up-to-date" } },
  { name: "rolled back below floor", running: { version: "1.1.0", counter: 11 }, pin: undefined, expected: { action: "install", version: "2.0.0", downgrade: false } },
  { name: "pin at floor after rollback", running: { version: "1.1.0", counter: 11 }, pin: "2.0.0", expected: { action: "install", version: "2.0.0", downgrade: false } },
  { name: "running without counter", running: { version: "1.1.0", counter: null }, pin: undefined, expected: { action: "install", version: "2.0.0", downgrade: false } },
  { name: "floor version without counter", running: { version: "2.0.0", counter: null }, pin: undefined, expected: { action: "none", reason: "up-to-date" } },
])("floor release when $name", ({ running, pin, expected }) => {
  const decision = decideFullRelease(input([release("1.1.0", 11), release("2.0.0", 20)], running, pin), false);

  const summary = { action: decision.action, ...("reason" in decision ? { reason: decision.reason } : {}), ...("release" in decision ? { version: decision.release.version } : {}), ...("downgrade" in decision ? { downgrade: decision.downgrade } : {}) };
  expect(summary).toEqual(expected);
});

test("below floor stays a downgrade after rollback", () => {
  const running = { version: "1.1.0", counter: 11 };

  expect(decideFullRelease(input([release("1.1.0", 11)], running), false)).toMatchObject({ action: "none", reason: "channel-behind-installed" });
  expect(() => decideFullRelease(input([release("1.1.0", 11)], running, "1.1.0"), false)).toThrow(DowngradeRefused);
  expect(decideFullRelease(input([release("1.1.0", 11, [20])], running), false)).toMatchObject({ action: "confirm-downgrade" });
});
