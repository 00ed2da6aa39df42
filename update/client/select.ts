/**
 * Release selection rules, with no I/O: which verified release, if any, the
 * box should move to given its channel, pin and installed floor.
 *
 * Rules:
 * - The floor is the counter of the installed release. A release with a
 *   lower counter is installed only when the vendor signed a downgrade from
 *   the installed counter (`downgradeFrom`) and the user confirmed it.
 * - A release at the floor is "up-to-date" only while a release at or above
 *   the floor runs. A rollback leaves the floor above the running release,
 *   and the floor release may then be installed again: it passed its health
 *   check once, so this is no downgrade.
 * - Following a channel whose latest release is below the installed one
 *   (upcoming → current) waits until the channel catches up, or offers the
 *   signed downgrade for confirmation. It never downgrades silently.
 * - Revoked releases and releases for other hardware are never selected.
 */
import { DowngradeRefused, PinnedVersionNotFound, ReleaseNotApplicable, ReleaseRevoked } from "../tuf/errors.ts";
import { floorKey, type Channel, type Release } from "./release.ts";

/** Values of this box that release fields are matched against. */
export interface DeviceProfile {
  hardwareId: string;
  /** DUIS versions the box emulates now; config patches for these apply. */
  duisVersions: string[];
  /** GBCS versions the box emulates now; config patches for these apply. */
  gbcsVersions: string[];
}

export interface InstalledRelease {
  version: string;
  counter: number;
}

/** The release that runs now, which a rollback can leave below the floor. */
export interface RunningRelease {
  version: string;
  /** Signed release counter, or null for a slot recorded before counters were stored. */
  counter: number | null;
}

export interface SelectionInput {
  releases: Release[];
  channel: Channel;
  pin: string | undefined;
  installed: InstalledRelease;
  device: DeviceProfile;
  /** The release that runs now; without it the floor release is taken to run. */
  running?: RunningRelease;
}

export type Decision =
  | { action: "install"; release: Release; downgrade: boolean }
  | { action: "confirm-downgrade"; release: Release }
  | { action: "none"; reason: "up-to-date" }
  | { action: "none"; reason: "channel-behind-installed"; latest: Release }
  | { action: "none"; reason: "channel-empty" };

/** Returns whether `release` is for this hardware and not revoked. */
export function isInstallable(release: Release, device: DeviceProfile): boolean {
  return release.revoked === undefined && release.hardwareIds.includes(device.hardwareId);
}

/** Returns the full releases of `channel` this box may install, highest counter first. */
export function channelReleases(input: Pick<SelectionInput, "releases" | "channel" | "device">): Release[] {
  return input.releases
    .filter((release) => release.kind === "full" && release.channel === input.channel && isInstallable(release, input.device))
    .sort((left, right) => right.counter - left.counter);
}

/**
 * Decides the next full release. With `confirmDowngrade` a signed downgrade
 * becomes an install, and without it the decision is "confirm-downgrade".
 * Throws a CallerError when the pinned version cannot be installed.
 */
export function decideFullRelease(input: SelectionInput, confirmDowngrade: boolean): Decision {
  const candidate = input.pin === undefined ? latestOfChannel(input) : pinnedRelease(input, input.pin);
  if (candidate === undefined) {
    return { action: "none", reason: "channel-empty" };
  }

  const installedCounter = input.installed.counter;
  if (candidate.counter > installedCounter) {
    return { action: "install", release: candidate, downgrade: false };
  }
  if (candidate.counter === installedCounter) {
    // After a rollback the floor release no longer runs, and installing it again is not a downgrade.
    if (runsAtLeast(input.running, candidate)) {
      return { action: "none", reason: "up-to-date" };
    }
    return { action: "install", release: candidate, downgrade: false };
  }

  // Below the floor: only a downgrade the vendor signed from this installed counter.
  const signed = candidate.downgradeFrom.includes(installedCounter);
  if (!signed) {
    if (input.pin !== undefined) {
      throw new DowngradeRefused(installedCounter, candidate.counter, "not signed");
    }
    return { action: "none", reason: "channel-behind-installed", latest: candidate };
  }
  if (!confirmDowngrade) {
    return { action: "confirm-downgrade", release: candidate };
  }
  return { action: "install", release: candidate, downgrade: true };
}

/**
 * Returns the config patches to apply: for each DUIS/GBCS pair the box
 * emulates, the highest installable patch above the pair's floor.
 */
export function decideConfigPatches(input: Omit<SelectionInput, "pin" | "installed">, patchFloors: Record<string, number>): Release[] {
  const best = new Map<string, Release>();
  for (const release of input.releases) {
    if (release.kind !== "config-patch" || release.channel !== input.channel) continue;
    if (!isInstallable(release, input.device)) continue;
    if (!input.device.duisVersions.includes(release.duisVersions[0] ?? "")) continue;
    if (!input.device.gbcsVersions.includes(release.gbcsVersions[0] ?? "")) continue;

    const key = floorKey(release);
    if (release.counter <= (patchFloors[key] ?? 0)) continue;

    const current = best.get(key);
    if (current === undefined || release.counter > current.counter) best.set(key, release);
  }
  return [...best.values()];
}

/** A config patch of the followed channel that the box skips because it targets other DUIS or GBCS versions. */
export interface SkippedConfigPatch {
  release: Release;
  /** Reason the patch does not apply, naming its versions and the emulated ones. */
  reason: string;
}

/**
 * Returns the config patches of the channel for this hardware whose DUIS or
 * GBCS version the box does not emulate. They are dropped, never applied.
 */
export function skippedConfigPatches(input: Omit<SelectionInput, "pin" | "installed">): SkippedConfigPatch[] {
  const skipped: SkippedConfigPatch[] = [];
  for (const release of input.releases) {
    if (release.kind !== "config-patch" || release.channel !== input.channel || !isInstallable(release, input.device)) continue;

    const duis = release.duisVersions[0] ?? "";
    const gbcs = release.gbcsVersions[0] ?? "";
    if (input.device.duisVersions.includes(duis) && input.device.gbcsVersions.includes(gbcs)) continue;

    const reason =
      `patch is for DUIS ${duis} / GBCS ${gbcs}, ` +
      `but this box emulates DUIS ${input.device.duisVersions.join(", ")} / GBCS ${input.device.gbcsVersions.join(", ")}`;
    skipped.push({ release, reason });
  }
  return skipped;
}

/** Returns whether the running release is `release` or above it; an unknown running release counts as the floor release. */
function runsAtLeast(running: RunningRelease | undefined, release: Release): boolean {
  if (running === undefined) {
    return true;
  }
  if (running.counter === null) {
    return running.version === release.version;
  }
  return running.counter >= release.counter;
}

function latestOfChannel(input: SelectionInput): Release | undefined {
  return channelReleases(input)[0];
}

/** Returns the pinned full release of the followed channel, or throws a CallerError when it cannot be installed. */
export function pinnedRelease(input: Pick<SelectionInput, "releases" | "channel" | "device">, pin: string): Release {
  const matches = input.releases.filter((release) => release.kind === "full" && release.channel === input.channel && release.version === pin);
  if (matches.length === 0) {
    throw new PinnedVersionNotFound(pin, input.channel, channelReleases(input).map((release) => release.version));
  }

  const forThisHardware = matches.filter((release) => release.hardwareIds.includes(input.device.hardwareId));
  const chosen = forThisHardware.sort((left, right) => right.counter - left.counter)[0];
  if (chosen === undefined) {
    throw new ReleaseNotApplicable(pin, "hardwareIds", input.device.hardwareId);
  }
  if (chosen.revoked !== undefined) {
    throw new ReleaseRevoked(pin, chosen.revoked.reason);
  }
  return chosen;
}
