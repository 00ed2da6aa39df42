/**
 * The daemon's view of the remote lock. It opens the lock from the
 * provisioning data and the settings, and refreshes it at boot and on an
 * interval while locked. Its refusal text is what the DUIS gateway, the
 * SMKI repository and the admin API send while the box is locked.
 */
import type { Logger } from "../daemon/log.ts";
import type { Provisioning } from "../provisioning/index.ts";
import {
  DeviceLocked,
  LockError,
  LockStateCorrupt,
  LockStore,
  lockedText,
  RemoteLock,
  type CheckInInfo,
  type LockStatus,
  type RefreshResult,
} from "./lock/index.ts";

/** Settings of {@link LockService}, from `update.*` and `lock.*`. */
export interface LockServiceSettings {
  /** Base URL of the update repository's metadata; "" when updates are off. */
  metadataUrl: string;
  /** URL of the lock authority's check-in endpoint; "" turns refreshes off. */
  checkInUrl: string;
  /** Wait between two refreshes while the box is locked, in ms. */
  refreshIntervalMs: number;
  /** Maximum wait for the boot refresh, in ms. */
  bootRefreshTimeoutMs: number;
}

/** Timer functions, replaceable in tests so no test waits for the interval. */
export interface LockTimers {
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const SYSTEM_TIMERS: LockTimers = {
  setTimeout: (run, ms) => {
    const handle = setTimeout(run, ms);
    handle.unref();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Source of the lock state. */
export type LockMode =
  /** Development mode: no lock authority key, so the box is never locked. */
  | "none"
  /** Trust anchors exist but no repository or check-in URL is set: the stored state applies and never changes. */
  | "offline"
  /** Statements are fetched from the repository and check-ins sent to the lock authority. */
  | "online";

/** Lock status for the admin API. */
export interface LockReport extends LockStatus {
  mode: LockMode;
  /** Wait between refreshes while locked, in ms. */
  refreshIntervalMs: number;
}

/** Returns the repository base URL, the folder above the metadata URL, below which `lock/<deviceId>.json` is. */
export function repositoryBaseOf(metadataUrl: string): string {
  return new URL("./", `${metadataUrl.replace(/\/+$/, "")}`).toString();
}

const UNREADABLE_STATE_MESSAGE = "The lock state on this box is unreadable, so it stays locked until the lock authority confirms its state.";

/**
 * The remote lock as the daemon runs it. A box without trust anchors has no
 * lock. A box with anchors but without URLs keeps whatever state is stored,
 * so clearing the settings never unlocks it.
 */
export class LockService {
  private timer: unknown = undefined;
  private running: Promise<RefreshResult> | undefined;
  private stopped = false;

  private constructor(
    readonly mode: LockMode,
    private readonly remote: RemoteLock | undefined,
    private readonly fixed: LockStatus,
    private readonly settings: LockServiceSettings,
    private readonly checkInInfo: () => CheckInInfo,
    private readonly timers: LockTimers,
    private readonly log: Logger,
  ) {
    remote?.onChange((status) => this.changed(status));
  }

  /** Opens the lock from the provisioning data; `checkInInfo` supplies the release each check-in reports. */
  static open(
    provisioning: Provisioning,
    settings: LockServiceSettings,
    checkInInfo: () => CheckInInfo,
    log: Logger,
    timers: LockTimers = SYSTEM_TIMERS,
  ): LockService {
    const unlocked: LockStatus = { locked: false, sequence: 0, message: "", contact: "" };
    const anchors = provisioning.anchors;
    if (anchors === null) {
      log.info({ deviceId: provisioning.deviceId }, "remote lock off: development mode has no lock authority key");
      return new LockService("none", undefined, unlocked, settings, checkInInfo, timers, log);
    }

    if (settings.metadataUrl === "" || settings.checkInUrl === "") {
      const stored = readStoredStatus(provisioning, log);
      log.warn(
        { deviceId: provisioning.deviceId, locked: stored.locked, sequence: stored.sequence },
        "remote lock offline: set update.metadataUrl and lock.checkInUrl to refresh it; the stored state applies",
      );
      return new LockService("offline", undefined, stored, settings, checkInInfo, timers, log);
    }

    const remote = RemoteLock.open({
      stateDir: provisioning.stateDir,
      deviceId: provisioning.deviceId,
      authorityKey: anchors.lockAuthorityKey,
      identity: provisioning.identity,
      repositoryUrl: repositoryBaseOf(settings.metadataUrl),
      checkInUrl: settings.checkInUrl,
      log,
    });
    return new LockService("online", remote, unlocked, settings, checkInInfo, timers, log);
  }

  isLocked(): boolean {
    return this.status().locked;
  }

  status(): LockStatus {
    return this.remote?.status() ?? this.fixed;
  }

  report(): LockReport {
    return { ...this.status(), mode: this.mode, refreshIntervalMs: this.settings.refreshIntervalMs };
  }

  /** Raises {@link DeviceLocked} naming `action` and whom to contact while the box is locked. */
  assertNotLocked(action: string): void {
    if (this.remote !== undefined) {
      this.remote.assertNotLocked(action);
      return;
    }

    const status = this.fixed;
    if (status.locked) {
      throw new DeviceLocked(action, status.sequence, status.message, status.contact);
    }
  }

  /** Returns why the DUIS gateway and the SMKI repository may not serve, or undefined while unlocked. */
  refusal(): string | undefined {
    const status = this.status();
    if (!status.locked) {
      return undefined;
    }
    return lockedText(status.sequence, status.message, status.contact);
  }

  /**
   * Fetches and applies the lock statement, then checks in. Never guarded:
   * a locked box must keep refreshing, because that is how the unlock
   * arrives. Concurrent callers share one refresh, so two check-ins never
   * race for the stored nonce. Returns undefined unless the lock is online.
   */
  async refresh(): Promise<RefreshResult | undefined> {
    if (this.remote === undefined) {
      return undefined;
    }

    this.running ??= this.runRefresh(this.remote).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /**
   * The boot refresh: waits at most `bootRefreshTimeoutMs` and never raises,
   * so an unreachable repository does not stop the boot. The stored state
   * applies until a refresh completes.
   */
  async bootRefresh(): Promise<void> {
    if (this.remote === undefined) {
      return;
    }

    let timeout: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timeout = setTimeout(() => resolve("timeout"), this.settings.bootRefreshTimeoutMs);
    });
    try {
      const outcome = await Promise.race([this.refresh(), timedOut]);
      if (outcome === "timeout") {
        this.log.warn({ timeoutMs: this.settings.bootRefreshTimeoutMs }, "boot lock refresh timed out; the stored lock state applies");
      }
    } catch (error) {
      this.log.error({ err: error }, "boot lock refresh failed; the stored lock state applies");
    } finally {
      clearTimeout(timeout);
    }
  }

  /** Starts refreshing on `refreshIntervalMs` while the box is locked. */
  start(): void {
    this.stopped = false;
    if (this.isLocked()) {
      this.schedule();
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) {
      this.timers.clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private async runRefresh(remote: RemoteLock): Promise<RefreshResult> {
    const started = performance.now();
    const result = await remote.refresh(this.checkInInfo());
    const ms = Number((performance.now() - started).toFixed(1));

    const fields = {
      ms,
      statement: result.statement instanceof LockError ? result.statement.name : result.statement.kind,
      checkIn: result.checkIn instanceof LockError ? result.checkIn.name : result.checkIn.status,
      locked: remote.isLocked(),
    };
    if (result.statement instanceof LockError || result.checkIn instanceof LockError) {
      this.log.warn(fields, "lock refresh finished with errors");
    } else {
      this.log.info(fields, "lock refreshed");
    }
    return result;
  }

  private changed(status: LockStatus): void {
    if (status.locked) {
      this.log.warn({ sequence: status.sequence, contact: status.contact }, "box locked by the lock authority: DUIS, SMKI and updates refused");
      this.schedule();
      return;
    }

    this.log.warn({ sequence: status.sequence }, "box unlocked by the lock authority: serving again");
    this.stop();
    this.stopped = false;
  }

  private schedule(): void {
    if (this.stopped || this.timer !== undefined || this.remote === undefined) {
      return;
    }

    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      void this.refresh()
        .catch((error: unknown) => this.log.error({ err: error }, "interval lock refresh failed"))
        .finally(() => {
          if (this.isLocked()) {
            this.schedule();
          }
        });
    }, this.settings.refreshIntervalMs);
  }
}

/** Reads the stored lock state of an offline box. An unreadable state counts as locked (fail closed). */
function readStoredStatus(provisioning: Provisioning, log: Logger): LockStatus {
  try {
    const { state } = new LockStore(provisioning.stateDir).readLockState(provisioning.deviceId);
    const locked = state.state === "locked";
    return { locked, sequence: state.sequence, message: locked ? state.message : "", contact: locked ? state.contact : "" };
  } catch (error) {
    if (!(error instanceof LockStateCorrupt)) {
      throw error;
    }
    log.error({ deviceId: provisioning.deviceId, path: error.path, err: error }, "lock state unreadable, so the box stays locked");
    return { locked: true, sequence: 0, message: UNREADABLE_STATE_MESSAGE, contact: "the owner of this box" };
  }
}
