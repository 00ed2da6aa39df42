/**
 * One TUF refresh (TUF v1.0.34 section 5): the I/O around the
 * TrustedMetadataSet. This file fetches, persists and logs; every trust
 * decision is made by the set.
 */
import { logger } from "../../daemon/log.ts";
import type { TopLevelRole, TrustLimits } from "../tuf/consts.ts";
import { DownloadError, MetaFileMissing, NotInitialized, UpdateError } from "../tuf/errors.ts";
import { TrustedMetadataSet, type TimestampUpdate } from "../tuf/trusted-set.ts";
import type { Fetcher } from "./fetcher.ts";
import type { MetadataStore, TimeFloor } from "./store.ts";

const log = logger("update.refresh");

export interface RefreshContext {
  store: MetadataStore;
  timeFloor: TimeFloor;
  fetcher: Fetcher;
  /** Base URL of the metadata files, without a trailing slash. */
  metadataBaseUrl: string;
  clock: () => Date;
  limits: TrustLimits;
}

export interface RefreshOutcome {
  trusted: TrustedMetadataSet;
  timestamp: TimestampUpdate;
}

/**
 * Runs the TUF client workflow up to top-level targets and returns the
 * trusted set. On any error the stored metadata stays as the last
 * accepted step left it, so the next refresh starts from there.
 */
export async function refreshMetadata(context: RefreshContext): Promise<RefreshOutcome> {
  const { store, timeFloor } = context;

  // TUF 5.1: one reference time for every expiry check of this refresh.
  const referenceTime = context.clock();
  timeFloor.check(referenceTime);

  // TUF 5.2: start from the locally trusted root.
  const rootBytes = store.read("root");
  if (rootBytes === undefined) {
    throw new NotInitialized(store.folder);
  }
  const trusted = new TrustedMetadataSet(rootBytes, referenceTime);
  const startVersion = trusted.root.signed.version;
  log.info({ rootVersion: startVersion, referenceTime: referenceTime.toISOString() }, "refresh started");

  await updateRootChain(trusted, context);
  const { timestampOrSnapshotKeysRotated } = trusted.finishRootUpdate();
  if (timestampOrSnapshotKeysRotated) {
    store.remove("timestamp");
    store.remove("snapshot");
    log.warn({ rootVersion: trusted.root.signed.version }, "timestamp or snapshot keys rotated; stored timestamp and snapshot deleted");
  }

  loadStoredBaseline(trusted, store);

  const timestamp = await updateTimestamp(trusted, context);
  await updateSnapshot(trusted, context);
  await updateTargets(trusted, context);

  timeFloor.advance(referenceTime);
  log.info(
    {
      rootVersion: trusted.root.signed.version,
      timestampVersion: trusted.timestamp?.signed.version,
      snapshotVersion: trusted.snapshot?.signed.version,
      targetsVersion: trusted.targets?.signed.version,
      timestamp,
    },
    "refresh finished",
  );
  return { trusted, timestamp };
}

/** TUF 5.3: fetch N+1.root.json until the repository has no next version or the rotation limit is reached. */
async function updateRootChain(trusted: TrustedMetadataSet, context: RefreshContext): Promise<void> {
  const { limits } = context;

  for (let step = 0; step < limits.maxRootRotations; step += 1) {
    const nextVersion = trusted.root.signed.version + 1;
    const url = metadataUrl(context, `${nextVersion}.root.json`);

    // TUF 5.3.3: a missing next version ends the chain. Only 404 and 403 mean "missing";
    // any other failure is reported, so a broken mirror cannot silently freeze root.
    let bytes: Uint8Array;
    try {
      bytes = await context.fetcher.fetchBytes(url, limits.rootMaxBytes, "rootMaxBytes");
    } catch (error) {
      if (error instanceof DownloadError && (error.status === 404 || error.status === 403)) return;
      throw error;
    }

    const root = trusted.updateRoot(bytes);

    // TUF 5.3.8: persist each accepted root before fetching the next.
    context.store.write("root", root.raw);
    log.info({ rootVersion: root.signed.version }, "root updated");
  }
}

/** Loads the stored timestamp and snapshot as rollback baselines; a damaged copy is dropped. */
function loadStoredBaseline(trusted: TrustedMetadataSet, store: MetadataStore): void {
  for (const role of ["timestamp", "snapshot"] as const) {
    const bytes = store.read(role);
    if (bytes === undefined) continue;

    try {
      if (role === "timestamp") trusted.loadStoredTimestamp(bytes);
      else trusted.loadStoredSnapshot(bytes);
    } catch (error) {
      if (!(error instanceof UpdateError)) throw error;
      log.warn({ role, err: error }, "stored metadata rejected; it is deleted and no longer used as a baseline");
      store.remove(role);
    }
  }
}

/** TUF 5.4: timestamp.json is never versioned in its name. */
async function updateTimestamp(trusted: TrustedMetadataSet, context: RefreshContext): Promise<TimestampUpdate> {
  const url = metadataUrl(context, "timestamp.json");
  const bytes = await context.fetcher.fetchBytes(url, context.limits.timestampMaxBytes, "timestampMaxBytes");

  const result = trusted.updateTimestamp(bytes);
  if (result === "unchanged") {
    log.info({ timestampVersion: trusted.timestamp?.signed.version }, "timestamp unchanged");
    return result;
  }

  // TUF 5.4.4: persist.
  context.store.write("timestamp", bytes);
  return result;
}

/** TUF 5.5: use the stored snapshot when it is the listed one, else fetch it. */
async function updateSnapshot(trusted: TrustedMetadataSet, context: RefreshContext): Promise<void> {
  const listed = trusted.timestamp?.signed.snapshot;
  if (listed === undefined) return;

  if (tryStoredCopy("snapshot", context.store, (bytes) => trusted.updateSnapshot(bytes))) return;

  const name = trusted.root.signed.consistentSnapshot ? `${listed.version}.snapshot.json` : "snapshot.json";
  const maxBytes = listed.length ?? context.limits.snapshotMaxBytes;
  const setting = listed.length === undefined ? "snapshotMaxBytes" : "snapshot length listed in timestamp";
  const bytes = await context.fetcher.fetchBytes(metadataUrl(context, name), maxBytes, setting);

  trusted.updateSnapshot(bytes);

  // TUF 5.5.6: persist.
  context.store.write("snapshot", bytes);
}

/** TUF 5.6: use the stored targets when it is the listed one, else fetch it. */
async function updateTargets(trusted: TrustedMetadataSet, context: RefreshContext): Promise<void> {
  const listed = trusted.snapshot?.signed.meta["targets.json"];
  if (listed === undefined) {
    throw new MetaFileMissing("snapshot", "targets.json");
  }

  if (tryStoredCopy("targets", context.store, (bytes) => trusted.updateTargets(bytes))) return;

  const name = trusted.root.signed.consistentSnapshot ? `${listed.version}.targets.json` : "targets.json";
  const maxBytes = listed.length ?? context.limits.targetsMaxBytes;
  const setting = listed.length === undefined ? "targetsMaxBytes" : "targets length listed in snapshot";
  const bytes = await context.fetcher.fetchBytes(metadataUrl(context, name), maxBytes, setting);

  trusted.updateTargets(bytes);

  // TUF 5.6.5: persist.
  context.store.write("targets", bytes);
}

/**
 * Offers the stored copy of `role` to the set (python-tuf's "load from
 * cache"). Returns true when the set accepted it, so nothing is fetched.
 */
function tryStoredCopy(role: TopLevelRole, store: MetadataStore, accept: (bytes: Uint8Array) => unknown): boolean {
  const bytes = store.read(role);
  if (bytes === undefined) return false;

  try {
    accept(bytes);
    return true;
  } catch (error) {
    if (!(error instanceof UpdateError)) throw error;
    log.debug({ role, error: error.name }, "stored copy is not the listed version; fetching it");
    return false;
  }
}

function metadataUrl(context: RefreshContext, name: string): string {
  return `${context.metadataBaseUrl}/${encodeURIComponent(name)}`;
}
