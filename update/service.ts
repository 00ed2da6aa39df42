/**
 * The daemon's update service: joins the update client (signed metadata,
 * channel, pin, plan), the remote lock and the A/B installer behind the
 * calls the admin API makes. Every call that changes what the box runs
 * refreshes the lock first and is refused while the box is locked.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../daemon/log.ts";
import { writeJsonAtomic } from "../daemon/state/atomic.ts";
import type { TrustAnchors } from "../provisioning/index.ts";
import { UpdateClient, type CheckReport, type TargetPlan } from "./client/client.ts";
import { HttpFetcher, type Fetcher } from "./client/fetcher.ts";
import type { Channel, Release } from "./client/release.ts";
import type { AutoInstall } from "./client/state.ts";
import type { InstalledRelease } from "./client/select.ts";
import {
  BOOT_STATE_FILE,
  clearBadVersion,
  findBadRelease,
  InstallInProgress,
  installUpdate,
  readBootState,
  ReleaseMarkedBad,
  rollback,
  TrialInProgress,
  type BadRelease,
  type BootSelection,
  type InstallOptions,
  type InstallProgress,
  type InstallResult,
  type SlotRecord,
} from "./install/index.ts";
import type { LockService } from "./lock-service.ts";
import { BadMarkNotFound, DowngradeNotConfirmed, NothingToInstall, UpdatesOff } from "./service-errors.ts";

export { BadMarkNotFound, DowngradeNotConfirmed, NothingToInstall, UpdatesOff, type NothingToInstallCause } from "./service-errors.ts";

/** Folder of the trusted metadata and the client state, inside the update folder. */
export const METADATA_FOLDER = "metadata";

/** Plan of the install waiting for its health report, inside the update folder. */
export const PENDING_INSTALL_FILE = "pending-install.json";

/**
 * DUIS and GBCS versions the emulator implements. A config patch for other
 * versions is dropped and listed as skipped in the check report.
 */
export const EMULATED_DUIS_VERSIONS = ["5.4"];
export const EMULATED_GBCS_VERSIONS = ["4.2"];

/** Time allowed for one metadata request to the repository, in ms. */
export const METADATA_REQUEST_TIMEOUT_MS = 30_000;

export interface UpdateServiceOptions {
  /** Folder of the update state: boot state, slots, staging and metadata. */
  folder: string;
  /** Trust anchors, or null in development mode (updates off). */
  anchors: TrustAnchors | null;
  metadataUrl: string;
  targetsUrl: string;
  hardwareId: string;
  autoInstall: AutoInstall;
  /** The release running now, used as the floor until a newer one is recorded. */
  running: InstalledRelease;
  /** The slot this start runs, from `resolveBootSlot`. */
  selection: BootSelection;
  lock: LockService;
  log: Logger;
  fetcher?: Fetcher;
  install?: Omit<InstallOptions, "onProgress" | "onStep" | "log">;
}

/** Target and version that POST /update/install started. */
export interface InstallStarted {
  target: string;
  version: string;
  downgrade: boolean;
}

/** The release that runs now: the active slot's, or the built-in one. */
export interface RunningRelease {
  version: string;
  /** Signed release counter, or null for a slot recorded before counters were stored. */
  counter: number | null;
  /** Slot it runs from, or null for the built-in release. */
  slot: string | null;
}

/** A decision of the update service: the client's, or a release the box marked bad. */
export type UpdateDecision = CheckReport["decision"] | { action: "none"; reason: "marked-bad"; release: Release; mark: BadRelease };

/** The client's check report, with what runs now and the releases marked bad on this box. */
export interface UpdateCheck extends Omit<CheckReport, "decision"> {
  decision: UpdateDecision;
  running: RunningRelease;
  /** Releases that failed their trial or were rolled back, oldest first; they are not installed again. */
  bad: BadRelease[];
}

/** Result of POST /update/rollback. */
export interface RollbackReport extends SlotReport {
  /** The release left behind, now marked bad. */
  markedBad: BadRelease | null;
  /** The installed-release floor, which a rollback keeps. */
  floor: InstalledRelease | null;
}

/** The boot slots: what runs now and what the next start runs. */
export interface SlotReport {
  running: { slot: string | null; version: string | null; action: string; triesLeft: number | null };
  next: { slot: string | null; version: string | null; onTrial: boolean };
}

export class UpdateService {
  private readonly client: UpdateClient | undefined;
  private latestProgress: InstallProgress | null = null;
  private installing: Promise<InstallResult | undefined> | undefined;
  /** The slot this start runs; {@link recordHealthy} ends its trial. */
  private selection: BootSelection;

  constructor(private readonly options: UpdateServiceOptions) {
    this.selection = options.selection;
    this.client = createClient(options, () => this.running());
    if (this.client !== undefined && this.client.state().autoInstall !== options.autoInstall) {
      this.client.setAutoInstall(options.autoInstall);
    }
  }

  get enabled(): boolean {
    return this.client !== undefined;
  }

  /** Returns the followed channel, for check-ins; `current` while updates are off. */
  channel(): Channel {
    return this.client?.state().channel ?? "current";
  }

  /** Refreshes the lock and the signed metadata, and reports what the channel or pin offers. */
  async check(): Promise<UpdateCheck> {
    const client = await this.guarded("update check");
    const report = this.withLocalState(await client.check());

    if (report.autoInstall === "automatic" && report.decision.action === "install" && !report.decision.downgrade && this.installing === undefined) {
      this.options.log.info({ version: report.decision.release.version }, "auto-install: starting the planned install");
      await this.startInstall({});
    }
    return report;
  }

  async followChannel(channel: Channel): Promise<UpdateCheck> {
    const client = await this.guarded("channel change");
    return this.withLocalState(await client.followChannel(channel));
  }

  /** Pins `version` after checking that the followed channel lists it; raises the client's CallerError otherwise. */
  async pin(version: string): Promise<UpdateCheck> {
    const client = await this.guarded("pin change");
    return this.withLocalState(await client.pin(version));
  }

  /** Returns the pinned version, or null while the box follows its channel or updates are off. */
  pinned(): string | null {
    return this.client?.state().pin ?? null;
  }

  /** Returns the release that runs now. */
  running(): RunningRelease {
    const record = this.selection.record;
    if (record === null) {
      return { version: this.options.running.version, counter: this.options.running.counter, slot: null };
    }
    return { version: record.version, counter: record.counter ?? null, slot: this.selection.slot };
  }

  /** Returns the releases marked bad on this box, oldest first. */
  badReleases(): BadRelease[] {
    return readBootState(this.options.folder).bad;
  }

  /** Returns the releases marked bad for GET /update/bad; raises `DeviceLocked` while locked, like every update call. */
  listBadReleases(): BadRelease[] {
    this.options.lock.assertNotLocked("bad-release list");
    return this.badReleases();
  }

  /**
   * Removes the bad-release marks of every target of `version`, so a later
   * install may try it again. Raises {@link BadMarkNotFound} when no target
   * of that version is marked.
   */
  clearBad(version: string): { cleared: BadRelease[]; bad: BadRelease[] } {
    this.options.lock.assertNotLocked("bad-release mark clear");
    if (this.installing !== undefined) {
      throw new InstallInProgress(this.options.folder);
    }

    const cleared = clearBadVersion(this.options.folder, version);
    const bad = this.badReleases();
    if (cleared.length === 0) {
      throw new BadMarkNotFound(version, bad.map((mark) => mark.version));
    }
    return { cleared, bad };
  }

  async unpin(): Promise<{ channel: Channel; pin: null }> {
    const client = await this.guarded("pin change", false);
    client.unpin();
    return { channel: client.state().channel, pin: null };
  }

  /**
   * Plans the install and starts it in the background. Progress is at
   * {@link progress}, and the install finishes at {@link whenIdle}. Raises
   * before anything starts when the plan has nothing to install, names a
   * release marked bad, or needs a confirmed downgrade.
   *
   * NOTE: only full releases are installed. Config patches are verified and
   * listed by check, but nothing applies them to the emulator yet.
   */
  async startInstall(request: { confirmDowngrade?: boolean }): Promise<InstallStarted> {
    if (this.installing !== undefined) {
      throw new InstallInProgress(this.options.folder);
    }

    const client = await this.guarded("install");
    const plan = await client.plan({ confirmDowngrade: request.confirmDowngrade === true });
    const state = client.state();
    if (plan.action === "none") {
      const running = this.running();
      throw new NothingToInstall(
        plan.reason === "channel-empty"
          ? { reason: plan.reason, channel: state.channel, hardwareId: this.options.hardwareId }
          : plan.reason === "up-to-date"
            ? { reason: plan.reason, channel: state.channel, floor: state.installed, running }
            : { reason: plan.reason, channel: state.channel, floor: state.installed, latest: plan.latest, running },
      );
    }

    // The installer raises these too, but only after the 202, so they are checked here before any download.
    const boot = readBootState(this.options.folder);
    if (boot.trial !== null) {
      throw new TrialInProgress(boot.trial.slot, boot.slots[boot.trial.slot]?.version ?? "(unknown)");
    }
    const mark = findBadRelease(boot, plan.target.name, plan.target.sha256);
    if (mark !== undefined) {
      throw new ReleaseMarkedBad(mark.targetName, mark.sha256, mark.reason, mark.version);
    }
    if (plan.action === "confirm-downgrade") {
      throw new DowngradeNotConfirmed(plan.target.custom.version, client.state().installed.version);
    }

    // Planning awaited the network, so a lock or a second request may have arrived meanwhile.
    this.options.lock.assertNotLocked("install");
    if (this.installing !== undefined) {
      throw new InstallInProgress(this.options.folder);
    }

    const target = plan.target;
    this.latestProgress = null;
    this.installing = this.runInstall(client, target).finally(() => {
      this.installing = undefined;
    });
    return { target: target.name, version: target.custom.version, downgrade: plan.downgrade };
  }

  /** Returns the latest progress of the running or last install, or null before the first. */
  progress(): InstallProgress | null {
    this.options.lock.assertNotLocked("update progress");
    return this.latestProgress;
  }

  /** Resolves when no install runs. */
  async whenIdle(): Promise<void> {
    await this.installing;
  }

  /**
   * Switches the next start to the other slot and marks the release left
   * behind as bad. The installed-release floor stays, so the repository
   * cannot offer releases below it except as signed downgrades. The release
   * at the floor may be installed again once its bad mark is cleared.
   */
  async rollback(): Promise<RollbackReport> {
    const client = await this.guarded("rollback", false);
    if (this.installing !== undefined) {
      throw new InstallInProgress(this.options.folder);
    }

    const before = readBootState(this.options.folder);
    const left = before.active === null ? null : before.slots[before.active];
    rollback(this.options.folder);
    rmSync(join(this.options.folder, PENDING_INSTALL_FILE), { force: true });

    const markedBad = left === null ? null : (findBadRelease(readBootState(this.options.folder), left.targetName, left.sha256) ?? null);
    return { ...this.slots(), markedBad, floor: client.state().installed };
  }

  /**
   * Records the release of the slot that passed its health check, so its
   * counter becomes the floor. Call it after `markHealthy` at every start.
   */
  recordHealthy(record: SlotRecord | null): void {
    // The trial has ended, so reports show the running slot as good from now on.
    if (this.selection.action === "trial" && record !== null && record.sha256 === this.selection.record?.sha256) {
      this.selection = { ...this.selection, action: "good", triesLeft: null, healthDeadline: null };
    }

    const path = join(this.options.folder, PENDING_INSTALL_FILE);
    if (this.client === undefined || record === null || !existsSync(path)) {
      return;
    }

    const pending = JSON.parse(readFileSync(path, "utf8")) as TargetPlan;
    if (pending.sha256 !== record.sha256) {
      return;
    }

    this.client.recordInstalled(pending);
    rmSync(path, { force: true });
    this.options.log.info({ target: pending.name, version: pending.release.version, counter: pending.release.counter }, "healthy release recorded as the floor");
  }

  /** Adds what runs now and the bad-release marks to a client report, and turns an offer of a bad release into "marked-bad". */
  private withLocalState(report: CheckReport): UpdateCheck {
    const bad = this.badReleases();
    const decision = report.decision;
    // Without a release in the decision, the channel's latest release is the one a user would expect, unless a pin names another.
    let candidate: Release | undefined;
    if ("release" in decision) {
      candidate = decision.release;
    } else if (report.pin === undefined) {
      candidate = report.latest;
    }

    const mark = candidate === undefined ? undefined : bad.find((entry) => entry.targetName === candidate.name && entry.sha256 === candidate.sha256);

    return {
      ...report,
      decision: candidate !== undefined && mark !== undefined ? { action: "none", reason: "marked-bad", release: candidate, mark } : decision,
      running: this.running(),
      bad,
    };
  }

  /** Reports the slot this start runs and the one the next start runs. */
  slots(): SlotReport {
    const selection = this.selection;
    const state = readBootState(this.options.folder);
    const nextRecord = state.active === null ? null : state.slots[state.active];
    return {
      running: {
        slot: selection.slot,
        version: selection.record?.version ?? null,
        action: selection.action,
        triesLeft: selection.triesLeft,
      },
      next: { slot: state.active, version: nextRecord?.version ?? null, onTrial: state.trial !== null },
    };
  }

  /**
   * Raises `DeviceLocked` while locked, and returns the client or raises
   * {@link UpdatesOff}. Calls that reach the repository anyway refresh the
   * lock first, so a lock published since the last refresh applies to them.
   */
  private async guarded(action: string, refresh = true): Promise<UpdateClient> {
    if (refresh) {
      await this.options.lock.refresh();
    }
    this.options.lock.assertNotLocked(action);

    if (this.client === undefined) {
      throw new UpdatesOff(this.options.anchors === null ? "development-mode" : "no-repository");
    }
    return this.client;
  }

  private async runInstall(client: UpdateClient, target: TargetPlan): Promise<InstallResult | undefined> {
    const { log, folder } = this.options;
    log.info({ target: target.name, version: target.custom.version, bytes: target.length }, "install started");

    let result: InstallResult;
    try {
      result = await installUpdate(folder, target, {
        ...this.options.install,
        log,
        onProgress: (progress) => {
          this.latestProgress = progress;
        },
        // A lock applied during the download stops the install before the image moves into a slot
        // and again before the switch. Both steps resume from disk once the box is unlocked.
        onStep: (step) => {
          if (step === "download-verified" || step === "slot-recorded") {
            this.options.lock.assertNotLocked("slot switch");
          }
        },
      });
    } catch (error) {
      // installUpdate logged the error and reported a `failed` progress event.
      log.warn({ target: target.name, err: error }, "install ended without switching slots");
      return undefined;
    }

    if (result.status === "already-installed") {
      client.recordInstalled(target);
    } else {
      writeJsonAtomic(join(folder, PENDING_INSTALL_FILE), target);
    }
    log.info({ target: target.name, status: result.status, slot: result.slot }, "install finished; restart boxd to run the new slot");
    return result;
  }
}

/** Returns whether the update folder has a boot state, that is, an install happened once. */
export function hasBootState(folder: string): boolean {
  return existsSync(join(folder, BOOT_STATE_FILE));
}

function createClient(options: UpdateServiceOptions, currentRelease: () => RunningRelease): UpdateClient | undefined {
  if (options.anchors === null) {
    options.log.info({}, "updates off: development mode has no trusted root");
    return undefined;
  }
  if (options.metadataUrl === "" || options.targetsUrl === "") {
    options.log.info({}, "updates off: update.metadataUrl or update.targetsUrl is empty");
    return undefined;
  }

  const folder = join(options.folder, METADATA_FOLDER);
  UpdateClient.initialize(folder, options.anchors.rootMetadata);
  return new UpdateClient({
    folder,
    metadataBaseUrl: options.metadataUrl,
    targetBaseUrl: options.targetsUrl,
    device: { hardwareId: options.hardwareId, duisVersions: EMULATED_DUIS_VERSIONS, gbcsVersions: EMULATED_GBCS_VERSIONS },
    running: options.running,
    currentRelease,
    fetcher: options.fetcher ?? new HttpFetcher({ requestTimeoutMs: METADATA_REQUEST_TIMEOUT_MS }),
  });
}

/** Returns a release as `2.4.0 (counter 24)`, for reports. */
export function describeRelease(release: Pick<Release, "version" | "counter"> | undefined): string | null {
  return release === undefined ? null : `${release.version} (counter ${release.counter})`;
}
