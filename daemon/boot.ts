import { createPrivateKey, type KeyObject } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Server } from "bun";
import type { Config } from "./config/load.ts";
import { DEFAULT_USER_ROLES, type UserRole } from "./duis/access.ts";
import { CertificateLibrary } from "./duis/certificates.ts";
import type { Eui } from "./duis/eui.ts";
import { createGateway } from "./duis/gateway.ts";
import { CounterStore } from "./duis/counter-store.ts";
import type { ResponseSigner } from "./duis/signature.ts";
import { duisValidator } from "./duis/xml.ts";
import { Outbox } from "./delivery/outbox.ts";
import { Sender } from "./delivery/sender.ts";
import { deviceServices } from "./emulator/device-services.ts";
import { Dispatcher } from "./emulator/dispatcher.ts";
import { GbcsKeys } from "./emulator/gbcs-keys.ts";
import { Inventory } from "./emulator/han.ts";
import { loadOrCreateDeviceCredentials, loadTrustMaterial } from "../provisioning/devices/index.ts";
import { loadProvisioning, type Provisioning } from "../provisioning/index.ts";
import { markHealthy, NoTrialToConfirm, resolveBootSlot, type BootSelection } from "../update/install/index.ts";
import { LockService } from "../update/lock-service.ts";
import { hasBootState, UpdateService } from "../update/service.ts";
import packageJson from "../package.json" with { type: "json" };
import { createAdminApi } from "./api/app.ts";
import { SignatureValidationSwitch } from "./config/switches.ts";
import { logger, setLogLevel } from "./log.ts";
import { runtimePath } from "./runtime-files.ts";
import { createSmkiApp, createSmkiStore } from "./smki/index.ts";

/** Folder of the bundled ZAZ1 test PKI. */
export const ZAZ1_FOLDER = runtimePath("provisioning", "trust", "zaz1");

/** The DSP XML-signing key of DCC Boxed: both current DSP certificates hold its public key. */
const DSP_SIGNING_KEY = "dsp-xml-sign-90B3D51F30000002-ds.key";

/** Version of the built-in release, the one that runs while no update slot is active. */
export const BUILT_IN_VERSION: string = packageJson.version;

/** Release counter of the built-in release: every signed release is above it. */
export const BUILT_IN_COUNTER = 0;

/** Folder of the update state (boot state, A/B slots, staging, trusted metadata) inside the state folder. */
export const UPDATE_FOLDER = "update";

/** Number of devices above which boot runs a full garbage collection after loading their credentials. */
const LARGE_HAN_DEVICES = 500;

/** A running boxd: its listening ports and how to stop it. */
export interface Boxd {
  config: Config;
  ports: { duis: number; smki: number; admin: number };
  inventory: Inventory;
  outbox: Outbox;
  sender: Sender;
  provisioning: Provisioning;
  lock: LockService;
  updates: UpdateService;
  /** The slot this start runs, from the A/B boot state. */
  bootSlot: BootSelection;
  /** Stops accepting, drains in-flight requests and deliveries, and closes. */
  stop(): Promise<void>;
}

const log = logger("boot");

/** Runs one boot step and logs its duration. */
async function step<T>(name: string, run: () => T | Promise<T>): Promise<T> {
  const started = performance.now();
  try {
      const result = await run();
      log.info({ step: name, ms: Number((performance.now() - started).toFixed(1)) }, "boot step done");
      return result;
    } catch (error) {
      log.error({ step: name, err: error }, "boot step failed");
      throw error;
    }
  }

  /** Loads the response signer and checks that the configured serial's certificate contains its public key. */
  function loadResponseSigner(library: CertificateLibrary, serial: string): ResponseSigner {
    const certificate = library.bySerialNumber(serial);
    if (!certificate) {
      throw new Error(`duis.responseSignerSerial ${serial} names no certificate in the trust folder; use a DSP XML-signing serial`);
    }
    const privateKey: KeyObject = createPrivateKey({ key: readFileSync(join(ZAZ1_FOLDER, DSP_SIGNING_KEY)), format: "der", type: "pkcs8" });
    const publicOfPrivate = privateKey.export({ format: "jwk" });
    const publicOfCertificate = certificate.publicKey.export({ format: "jwk" });
    if (publicOfPrivate.x !== publicOfCertificate.x || publicOfPrivate.y !== publicOfCertificate.y) {
      throw new Error(`certificate serial ${serial} (${certificate.name}) does not hold the DSP signing key; use a DSP XML-signing serial`);
    }
    return { privateKey, issuerName: "CN=Z1,OU=07", serial };
  }

  /**
   * Ends the trial of the running slot now that every server listens, and
   * records its release as the floor. A report the boot state no longer
   * accepts (the health timeout passed) is logged, and the next start reverts.
   */
  function reportSlotHealth(updateFolder: string, updates: UpdateService): void {
    let record;
    try {
      record = markHealthy(updateFolder);
    } catch (error) {
      if (!(error instanceof NoTrialToConfirm)) throw error;
      log.error({ err: error }, "slot health report rejected; the next start reverts to the previous slot");
      return;
    }
    updates.recordHealthy(record);
  }

  /** A server of boxd could not listen because another process uses its host and port. */
  export class PortInUse extends Error {
    override readonly name = "PortInUse";

    constructor(
      readonly server: string,
      readonly host: string,
      readonly port: number,
      /** Setting key of the port, for example `duis.port`. */
      readonly setting: string,
      /** Environment variable of the setting, for example `BOXD_DUIS_PORT`. */
      readonly environmentVariable: string,
    ) {
      super(
        `The ${server} cannot listen on ${host}:${port} because another process uses that port. ` +
          `Stop that process, or set ${setting} (${environmentVariable}) to a free port, or to 0 for any free port.`,
      );
    }
  }

  /** Starts one server, and turns an address already in use into {@link PortInUse} naming its setting. */
  function listen(
    server: string,
    setting: { key: string; environmentVariable: string },
    options: { hostname: string; port: number },
    start: () => Server<undefined>,
  ): Server<undefined> {
    try {
      return start();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") {
        throw new PortInUse(server, options.hostname, options.port, setting.key, setting.environmentVariable);
      }
      throw error;
    }
  }

  /** Starts every part of boxd in order. Ports of 0 pick free ports (tests). */
  export async function startBoxd(config: Config): Promise<Boxd> {
    setLogLevel(config.log.level);
    const started = performance.now();
    log.info({ duisPort: config.duis.port, state: config.state.directory }, "boxd starting");

    const stateDirectory = resolve(config.state.directory);
    await step("state directory", () => mkdirSync(stateDirectory, { recursive: true, mode: 0o700 }));
    const provisioning = await step("provisioning", () => loadProvisioning(stateDirectory, logger("provisioning")));
    if (provisioning.developmentAdminTokenPath !== null) {
      log.warn({ adminTokenFile: provisioning.developmentAdminTokenPath }, "development mode: the admin API token is in this file");
    }

    const updateFolder = join(stateDirectory, UPDATE_FOLDER);
    const bootSlot = await step("boot slot", () => resolveBootSlot(updateFolder));
    const runningVersion = bootSlot.record?.version ?? BUILT_IN_VERSION;

    let updates: UpdateService | undefined;
    const lock = await step("remote lock", () =>
      LockService.open(
        provisioning,
        {
          metadataUrl: config.update.metadataUrl,
          checkInUrl: config.lock.checkInUrl,
          refreshIntervalMs: config.lock.refreshIntervalMs,
          bootRefreshTimeoutMs: config.lock.bootRefreshTimeoutMs,
        },
        () => ({ version: runningVersion, channel: updates?.channel() ?? "current" }),
        logger("update.lock"),
      ),
    );
    updates = await step("update client", () =>
      new UpdateService({
        folder: updateFolder,
        anchors: provisioning.anchors,
        metadataUrl: config.update.metadataUrl,
        targetsUrl: config.update.targetsUrl,
        hardwareId: config.update.hardwareId,
        autoInstall: config.update.autoInstall,
        running: { version: runningVersion, counter: BUILT_IN_COUNTER },
        selection: bootSlot,
        lock,
        log: logger("update"),
      }),
    );
    await step("boot lock refresh", () => lock.bootRefresh());

    const certificates = await step("DUIS signing certificates", () => CertificateLibrary.fromFolder(ZAZ1_FOLDER));
    const signer = await step("DSP response signer", () => loadResponseSigner(certificates, config.duis.responseSignerSerial));
    await step("DUIS 5.4 schema", () => duisValidator());

    const inventory = await step("HAN inventory", () => Inventory.open(stateDirectory));
    const trust = await step("GBCS trust material", () => loadTrustMaterial(runtimePath("provisioning", "trust")));
    const credentials = await step("device credentials", () =>
      loadOrCreateDeviceCredentials(
        join(stateDirectory, "devices"),
        inventory.all().map((device) => ({ eui: device.eui, deviceType: device.deviceType })),
        trust,
        { log: logger("provisioning.devices") },
      ),
    );
    // Loading thousands of devices leaves their JSON and PEM text as garbage; collect it now rather than at the first requests.
    if (inventory.all().length > LARGE_HAN_DEVICES) await step("memory after loading the HAN", () => Bun.gc(true));
    const gbcsKeys = await step("GBCS keys", () => GbcsKeys.load(ZAZ1_FOLDER, credentials));
    const counters = await step("anti-replay counters", () => new CounterStore(join(stateDirectory, "duis-counters.json")));
    const outbox = await step("response outbox", () => new Outbox(stateDirectory));
    const sender = new Sender(
      outbox,
      {
        receiverUrl: config.receiver.url,
        requestTimeoutMs: config.receiver.requestTimeoutMs,
        retryInitialMs: config.receiver.retryInitialMs,
        retryMaxMs: config.receiver.retryMaxMs,
      },
      logger("delivery"),
    );

    const users = new Map<Eui, readonly UserRole[]>();
    for (const [eui, roles] of Object.entries({ ...DEFAULT_USER_ROLES, ...config.duis.users })) users.set(eui as Eui, roles);

    const services = deviceServices({
      inventory,
      keys: gbcsKeys,
      signer,
      outbox,
      queued: () => sender.kick(),
      routing: config.gbcs.responseRouting,
      log: logger("emulator"),
    });
    const signatureValidation = await step("DUIS signature validation switch", () =>
      SignatureValidationSwitch.load(stateDirectory, config.duis.validateSignatures, logger("admin")),
    );
    const gateway = createGateway({
      certificates,
      counters,
      users,
      validateSignatures: () => signatureValidation.enabled,
      serviceGuard: () => lock.refusal(),
      signer,
      handler: new Dispatcher(inventory, services),
      maxBodyBytes: config.duis.maxBodyBytes,
      log: logger("duis.gateway"),
    });

    // What boot has opened so far, closed again if a later step fails, so a failed boot leaves nothing listening.
    const opened: Array<() => void> = [() => counters.close(), () => outbox.close()];
    const closeOpened = () => {
      for (const close of opened.reverse()) close();
    };

    try {
    const duisAddress = { hostname: config.duis.host, port: config.duis.port };
    const duisServer: Server<undefined> = await step("DUIS gateway listening", () =>
      listen("DUIS gateway", { key: "duis.port", environmentVariable: "BOXD_DUIS_PORT" }, duisAddress, () =>
        Bun.serve({
          ...duisAddress,
          fetch: gateway.fetch,
          // The gateway enforces duis.maxBodyBytes itself; this is a backstop for the transport.
          maxRequestBodySize: config.duis.maxBodyBytes + 1024,
        }),
      ),
    );
    opened.push(() => duisServer.stop(true));
    const smki = createSmkiApp({
      store: createSmkiStore({ devices: credentials, organisations: trust.organisations }),
      log: logger("smki"),
    });
    const smkiLog = logger("smki");
    const smkiAddress = { hostname: config.smki.host, port: config.smki.port };
    const smkiServer: Server<undefined> = await step("SMKI repository listening", () =>
      listen("SMKI repository", { key: "smki.port", environmentVariable: "BOXD_SMKI_PORT" }, smkiAddress, () => Bun.serve({
        ...smkiAddress,
        fetch: (request) => {
          const refusal = lock.refusal();
          if (refusal !== undefined) {
            smkiLog.warn({ path: new URL(request.url).pathname, reason: refusal }, "SMKI request rejected: service unavailable");
            return new Response(refusal, { status: 503, headers: { "Content-Type": "text/plain; charset=utf-8" } });
          }
          return smki.fetch(request);
        },
      })),
    );
    opened.push(() => smkiServer.stop(true));

    let adminPort = 0;
    const admin = createAdminApi({
      credential: provisioning.adminCredential,
      status: {
        version: runningVersion,
        mode: provisioning.mode,
        deviceId: provisioning.deviceId,
        ports: () => ({ duis: duisServer.port!, smki: smkiServer.port!, admin: adminPort }),
        pendingResponses: () => outbox.size,
      },
      lock,
      updates,
      signatureValidation,
      inventory,
      log: logger("admin"),
    });
    const adminAddress = { hostname: config.admin.host, port: config.admin.port };
    const adminServer: Server<undefined> = await step("admin API listening", () =>
      listen("admin API", { key: "admin.port", environmentVariable: "BOXD_ADMIN_PORT" }, adminAddress, () => Bun.serve({ ...adminAddress, fetch: admin.fetch })),
    );
    adminPort = adminServer.port!;
    opened.push(() => adminServer.stop(true));
    await step("response delivery", () => sender.start());

    if (hasBootState(updateFolder)) {
      await step("slot health", () => reportSlotHealth(updateFolder, updates));
    }
    lock.start();

    log.info(
      { duisPort: duisServer.port, smkiPort: smkiServer.port, adminPort, locked: lock.isLocked(), ms: Number((performance.now() - started).toFixed(1)) },
      "boxd ready",
    );

    let stopping: Promise<void> | undefined;
    return {
      config,
      ports: { duis: duisServer.port!, smki: smkiServer.port!, admin: adminPort },
      inventory,
      outbox,
      sender,
      provisioning,
      lock,
      updates,
      bootSlot,
      stop() {
        stopping ??= (async () => {
          log.info({}, "boxd stopping: no new requests, draining");
          lock.stop();
          const deadline = new Promise<void>((resolveDeadline) => setTimeout(resolveDeadline, config.shutdown.drainMs).unref());
          await Promise.race([Promise.all([duisServer.stop(false), smkiServer.stop(false), adminServer.stop(false)]), deadline]);
          await Promise.race([sender.stop(), deadline]);
          duisServer.stop(true);
          smkiServer.stop(true);
          adminServer.stop(true);
          counters.close();
          outbox.close();
          log.info({ pendingDeliveries: outbox.size }, "boxd stopped");
        })();
        return stopping;
      },
    };
  } catch (error) {
    await sender.stop();
    closeOpened();
    throw error;
  }
}
