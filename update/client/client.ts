/**
 * The box-side update client: refresh signed metadata, report what is
 * available for the chosen channel or pin, and plan an install. It never
 * installs by itself. `plan()` returns the verified target, and the
 * installer downloads it by URL, length and sha256, then calls
 * `recordInstalled()` once the new release is committed.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { logger } from "../../daemon/log.ts";
import { writeFileAtomic } from "../../daemon/state/atomic.ts";
import { DEFAULT_TRUST_LIMITS, type TrustLimits } from "../tuf/consts.ts";
import { CallerError, DowngradeRefused, RepositoryError, UpdateError } from "../tuf/errors.ts";
import type { JsonObject } from "../tuf/json.ts";
import { TrustedMetadataSet } from "../tuf/trusted-set.ts";
import { HttpFetcher, type Fetcher } from "./fetcher.ts";
import { refreshMetadata } from "./refresh.ts";
import { floorKey, parseRelease, requireSemver, type Channel, type Release } from "./release.ts";
import {
  channelReleases,
  decideConfigPatches,
  decideFullRelease,
  pinnedRelease,
  skippedConfigPatches,
  type Decision,
  type DeviceProfile,
  type InstalledRelease,
  type RunningRelease,
  type SelectionInput,
  type SkippedConfigPatch,
} from "./select.ts";
import { ClientStateFile, type AutoInstall, type ClientState } from "./state.ts";
import { MetadataStore, TimeFloor, type TimeFloorSettings } from "./store.ts";

const log = logger("update.client");

export interface UpdateClientOptions {
  /** Folder of the trusted metadata, the time floor and the client state. */
  folder: string;
  /** Base URL of the repository's metadata, without a trailing slash. */
  metadataBaseUrl: string;
  /** Base URL of the repository's targets, without a trailing slash. */
  targetBaseUrl: string;
  device: DeviceProfile;
  /** The release running now; it is the floor until a newer one is recorded. */
  running: InstalledRelease;
  /**
   * Returns the release that runs now, when it can differ from the floor,
   * for example after a rollback. Decisions then offer the floor release
   * again instead of calling the box up to date.
   */
  currentRelease?: () => RunningRelease;
  fetcher?: Fetcher;
  clock?: () => Date;
  limits?: Partial<TrustLimits>;
  timeFloor?: Partial<TimeFloorSettings>;
}

/**
 * The installer's input: one verified target. `custom` is the signed
 * custom object with the main release fields copied to its top level
 * (`version`, `counter`, `kind`, `channel`), where the installer reads them.
 */
export interface TargetPlan {
  name: string;
  url: string;
  /** Signed length, in bytes. */
  length: number;
  /** Signed SHA-256, lowercase hex. */
  sha256: string;
  custom: JsonObject & { version: string; counter: number; kind: string; channel: string };
  release: Release;
}

export type InstallPlan =
  | { action: "install"; target: TargetPlan; downgrade: boolean }
  | { action: "confirm-downgrade"; target: TargetPlan }
  | Extract<Decision, { action: "none" }>;

/** Why a listed target is not offered: its signed release fields are invalid. */
export interface RejectedTarget {
  name: string;
  error: RepositoryError;
}

export interface CheckReport {
  channel: Channel;
  pin: string | undefined;
  /**
   * The installed-release floor: the highest release recorded as installed
   * and healthy. Only releases above its counter are offered, unless the
   * vendor signed a downgrade from it. A rollback leaves it where it is, so
   * it can be above the release that runs.
   */
  floor: InstalledRelease;
  /** Highest installable release of the channel, whatever the pin. */
  latest: Release | undefined;
  /** Releases of the channel above the pin; empty when nothing is pinned. */
  newerThanPin: Release[];
  /** The decision `plan()` would make now, or the caller error it would raise for the pin. */
  decision: Decision | { action: "error"; error: CallerError };
  /** Config patches to apply, one per emulated DUIS/GBCS pair. */
  configPatches: Release[];
  /** Config patches of the channel for DUIS or GBCS versions the box does not emulate; they are dropped. */
  configPatchesSkipped: SkippedConfigPatch[];
  installedRevoked: boolean;
  rejected: RejectedTarget[];
  autoInstall: AutoInstall;
}

interface Verified {
  trusted: TrustedMetadataSet;
  releases: Release[];
  rejected: RejectedTarget[];
}

export class UpdateClient {
  private readonly options: UpdateClientOptions;
  private readonly store: MetadataStore;
  private readonly timeFloor: TimeFloor;
  private readonly stateFile: ClientStateFile;
  private readonly fetcher: Fetcher;
  private readonly clock: () => Date;
  private readonly limits: TrustLimits;

  constructor(options: UpdateClientOptions) {
    this.options = options;
    this.store = new MetadataStore(options.folder);
    this.timeFloor = new TimeFloor(options.folder, options.timeFloor);
    this.stateFile = new ClientStateFile(options.folder);
    this.fetcher = options.fetcher ?? new HttpFetcher();
    this.clock = options.clock ?? (() => new Date());
    this.limits = { ...DEFAULT_TRUST_LIMITS, ...options.limits };
  }

  /**
   * Stores the vendor's root as the first trusted root of `folder`. The root
   * must be signed by a threshold of its own keys. An existing trusted root
   * is kept, because replacing it would undo every rotation since.
   */
  static initialize(folder: string, rootBytes: Uint8Array): void {
    new TrustedMetadataSet(rootBytes, new Date(0));

    mkdirSync(folder, { recursive: true, mode: 0o755 });
    const path = join(folder, "root.json");
    if (existsSync(path)) return;
    writeFileAtomic(path, rootBytes, 0o644);
  }

  /**
   * Returns the stored choices and floor. The floor is never below the
   * running release, so a box reflashed by hand to a newer release is not
   * offered an older one as an update.
   */
  state(): ClientState {
    const running = this.options.running;
    const stored = this.stateFile.read(running);
    if (running.counter > stored.installed.counter) {
      return { ...stored, installed: running };
    }
    return stored;
  }

  /** Refreshes metadata and reports what is available for the channel and pin. */
  async check(): Promise<CheckReport> {
    const state = this.state();
    const verified = await this.refresh();
    return this.report(state, verified);
  }

  /** Follows `channel` from now on and drops any pin; nothing is installed. */
  async followChannel(channel: Channel): Promise<CheckReport> {
    const state = this.state();
    const { pin: _dropped, ...rest } = state;
    this.stateFile.write({ ...rest, channel });
    log.info({ from: state.channel, to: channel, droppedPin: state.pin }, "channel changed");
    return this.check();
  }

  /**
   * Pins `version` on the followed channel; plan() then targets exactly that
   * version. Refreshes first and stores nothing when the channel does not
   * list the version for this hardware or the vendor revoked it, raising
   * the CallerError that names the versions available.
   */
  async pin(version: string): Promise<CheckReport> {
    requireSemver("pin", version);

    const verified = await this.refresh();
    const state = this.state();
    pinnedRelease({ releases: verified.releases, channel: state.channel, device: this.options.device }, version);

    const pinned: ClientState = { ...state, pin: version };
    this.stateFile.write(pinned);
    log.info({ pin: version }, "version pinned");
    return this.report(pinned, verified);
  }

  unpin(): void {
    const { pin, ...rest } = this.state();
    this.stateFile.write(rest);
    log.info({ previousPin: pin }, "version unpinned");
  }

  setAutoInstall(mode: AutoInstall): void {
    this.stateFile.write({ ...this.state(), autoInstall: mode });
    log.info({ autoInstall: mode }, "auto-install changed");
  }

  /**
   * Refreshes and returns the full release to install, if any. A signed
   * downgrade is returned as an install only with `confirmDowngrade`.
   * Throws the CallerError of an impossible pin.
   */
  async plan(options: { confirmDowngrade?: boolean } = {}): Promise<InstallPlan> {
    const state = this.state();
    const verified = await this.refresh();
    const decision = decideFullRelease(this.selectionInput(state, verified.releases), options.confirmDowngrade === true);

    if (decision.action === "install") {
      log.info({ target: decision.release.name, counter: decision.release.counter, downgrade: decision.downgrade }, "install planned");
      return { action: "install", target: this.targetPlan(verified.trusted, decision.release), downgrade: decision.downgrade };
    }
    if (decision.action === "confirm-downgrade") {
      return { action: "confirm-downgrade", target: this.targetPlan(verified.trusted, decision.release) };
    }
    return decision;
  }

  /** Refreshes and returns the config patches to apply for the DUIS/GBCS versions the box emulates. */
  async planConfigPatches(): Promise<TargetPlan[]> {
    const state = this.state();
    const verified = await this.refresh();
    const patches = decideConfigPatches({ releases: verified.releases, channel: state.channel, device: this.options.device }, state.patchFloors);
    return patches.map((release) => this.targetPlan(verified.trusted, release));
  }

  /**
   * Records a committed install and moves its floor. Call it from the new
   * release once it passed its health check, because until then the running
   * release keeps the floor up. Throws DowngradeRefused for a full release
   * below the floor that no signed downgrade covers.
   */
  recordInstalled(target: TargetPlan): void {
    const state = this.state();
    const release = target.release;

    if (release.kind === "config-patch") {
      const key = floorKey(release);
      const floor = state.patchFloors[key] ?? 0;
      if (release.counter <= floor) {
        throw new DowngradeRefused(floor, release.counter, "not signed");
      }
      this.stateFile.write({ ...state, patchFloors: { ...state.patchFloors, [key]: release.counter } });
      log.info({ target: release.name, floorKey: key, counter: release.counter }, "config patch recorded");
      return;
    }

    const floor = state.installed.counter;
    if (release.counter < floor && !release.downgradeFrom.includes(floor)) {
      throw new DowngradeRefused(floor, release.counter, "not signed");
    }
    this.stateFile.write({ ...state, installed: { version: release.version, counter: release.counter } });
    log.info({ target: release.name, from: floor, to: release.counter }, "installed release recorded");
  }

  private async refresh(): Promise<Verified> {
    let outcome: Awaited<ReturnType<typeof refreshMetadata>>;
    try {
      outcome = await refreshMetadata({
        store: this.store,
        timeFloor: this.timeFloor,
        fetcher: this.fetcher,
        metadataBaseUrl: this.options.metadataBaseUrl,
        clock: this.clock,
        limits: this.limits,
      });
    } catch (error) {
      if (error instanceof UpdateError) {
        log.error({ err: error, fault: error.fault }, "refresh failed");
      }
      throw error;
    }

    const releases: Release[] = [];
    const rejected: RejectedTarget[] = [];
    for (const [name, target] of Object.entries(outcome.trusted.targets?.signed.targets ?? {})) {
      try {
        releases.push(parseRelease(name, target));
      } catch (error) {
        if (!(error instanceof RepositoryError)) throw error;
        log.warn({ target: name, err: error }, "target rejected");
        rejected.push({ name, error });
      }
    }
    return { trusted: outcome.trusted, releases, rejected };
  }

  private report(state: ClientState, verified: Verified): CheckReport {
    const input = this.selectionInput(state, verified.releases);
    const available = channelReleases(input);
    const pinned = state.pin === undefined ? undefined : available.find((release) => release.version === state.pin);

    let decision: CheckReport["decision"];
    try {
      decision = decideFullRelease(input, false);
    } catch (error) {
      if (!(error instanceof CallerError)) throw error;
      decision = { action: "error", error };
    }

    const installedRevoked = verified.releases.some(
      (release) => release.kind === "full" && release.counter === state.installed.counter && release.revoked !== undefined,
    );

    return {
      channel: state.channel,
      pin: state.pin,
      floor: state.installed,
      latest: available[0],
      newerThanPin: pinned === undefined ? [] : available.filter((release) => release.counter > pinned.counter),
      decision,
      configPatches: decideConfigPatches({ releases: verified.releases, channel: state.channel, device: this.options.device }, state.patchFloors),
      configPatchesSkipped: skippedConfigPatches({ releases: verified.releases, channel: state.channel, device: this.options.device }),
      installedRevoked,
      rejected: verified.rejected,
      autoInstall: state.autoInstall,
    };
  }

  private selectionInput(state: ClientState, releases: Release[]): SelectionInput {
    const running = this.options.currentRelease?.();
    return {
      releases,
      channel: state.channel,
      pin: state.pin,
      installed: state.installed,
      device: this.options.device,
      ...(running === undefined ? {} : { running }),
    };
  }

  /** Builds the installer's view of a target; with consistent snapshots the URL is `dir/SHA256.file` (TUF 5.7.3). */
  private targetPlan(trusted: TrustedMetadataSet, release: Release): TargetPlan {
    const segments = release.name.split("/");
    if (trusted.root.signed.consistentSnapshot) {
      const file = segments.pop() ?? "";
      segments.push(`${release.sha256}.${file}`);
    }
    const url = `${this.options.targetBaseUrl}/${segments.map(encodeURIComponent).join("/")}`;
    const custom = { ...release.custom, version: release.version, counter: release.counter, kind: release.kind, channel: release.channel };
    return { name: release.name, url, length: release.length, sha256: release.sha256, custom, release };
  }
}
