/**
 * Errors of the update service that the admin API maps to 409 or 404. All
 * are caller errors: the request cannot be carried out in the box's current
 * state, and each message names what to do instead.
 */
import type { Channel, Release } from "./client/release.ts";
import type { InstalledRelease, RunningRelease } from "./client/select.ts";

/** Updates are off, so the request cannot be carried out. The caller must configure the box first. */
export class UpdatesOff extends Error {
  override readonly name = "UpdatesOff";

  constructor(readonly reason: "development-mode" | "no-repository") {
    super(
      reason === "development-mode"
        ? "Updates are off: this box runs in development mode without a trusted root. Provision it with `npx bun provisioning/factory.ts`."
        : "Updates are off: no repository is configured. Set update.metadataUrl (BOXD_UPDATE_METADATA_URL) and update.targetsUrl (BOXD_UPDATE_TARGETS_URL), then restart boxd.",
    );
  }
}

/** Reason a plan has nothing to install, with the values its message names. */
export type NothingToInstallCause =
  | { reason: "up-to-date"; channel: Channel; floor: InstalledRelease; running: RunningRelease }
  | { reason: "channel-behind-installed"; channel: Channel; floor: InstalledRelease; latest: Release; running: RunningRelease }
  | { reason: "channel-empty"; channel: Channel; hardwareId: string };

/** The plan has nothing to install, for example because the box is up to date. */
export class NothingToInstall extends Error {
  override readonly name = "NothingToInstall";
  readonly reason: NothingToInstallCause["reason"];

  constructor(readonly details: NothingToInstallCause) {
    super(`Nothing to install (${details.reason}): ${describeCause(details)}`);
    this.reason = details.reason;
  }
}

function describeCause(cause: NothingToInstallCause): string {
  if (cause.reason === "up-to-date") {
    return (
      `${describeRunning(cause.running)} runs, the installed floor is ${cause.floor.version} (counter ${cause.floor.counter}), ` +
      `and channel ${cause.channel} has no release above that counter. ` +
      "Run POST /update/check (admin-cli check) again after the vendor publishes one."
    );
  }
  if (cause.reason === "channel-empty") {
    return (
      `channel ${cause.channel} lists no installable release for hardware id ${cause.hardwareId}. ` +
      "Check update.hardwareId (BOXD_UPDATE_HARDWARE_ID), or follow the other channel (PUT /update/channel)."
    );
  }

  const floor = cause.floor.counter;
  return (
    `${describeRunning(cause.running)} runs. The latest release of channel ${cause.channel}, ${cause.latest.version} (counter ${cause.latest.counter}), ` +
    `is below the installed floor ${cause.floor.version} (counter ${floor}), and this box never downgrades unasked. ` +
    `Wait until the channel publishes a release above counter ${floor}, or pin a release the vendor signed as a downgrade from counter ${floor} ` +
    '(PUT /update/pin, admin-cli pin VERSION) and install it with {"confirmDowngrade": true} (admin-cli install --confirm-downgrade).'
  );
}

/** The next release is a vendor-signed downgrade, which the user must confirm. */
export class DowngradeNotConfirmed extends Error {
  override readonly name = "DowngradeNotConfirmed";

  constructor(
    readonly version: string,
    readonly installed: string,
  ) {
    super(`Installing ${version} downgrades from ${installed}. Confirm it with {"confirmDowngrade": true} in the body of POST /update/install.`);
  }
}

/** DELETE /update/bad/{version} named a version that carries no bad-release mark. */
export class BadMarkNotFound extends Error {
  override readonly name = "BadMarkNotFound";

  constructor(
    readonly version: string,
    /** Versions that are marked bad now. */
    readonly marked: readonly string[],
  ) {
    super(`Release ${version} is not marked bad. Marked bad now: ${marked.length === 0 ? "none" : marked.join(", ")}.`);
  }
}

/** Returns the running release as `1.1.0 (counter 11)`, or the bare version when its counter is unknown. */
function describeRunning(running: RunningRelease): string {
  return running.counter === null ? running.version : `${running.version} (counter ${running.counter})`;
}
