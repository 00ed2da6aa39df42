/**
 * The admin API of boxd: JSON over HTTP on `admin.host`:`admin.port`, every
 * request authenticated with `Authorization: Bearer <admin token>`.
 */
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { verifyAdminToken, type AdminCredential } from "../../provisioning/index.ts";
import { CHANNELS, type Channel } from "../../update/client/release.ts";
import { formatProgressLine } from "../../update/install/index.ts";
import type { LockMode, LockService } from "../../update/lock-service.ts";
import type { UpdateService } from "../../update/service.ts";
import type { SignatureValidationSwitch } from "../config/switches.ts";
import type { Inventory } from "../emulator/han.ts";
import type { Logger } from "../log.ts";
import { ApiRequestInvalid, errorAnswer } from "./errors.ts";
import { describeMark, describeRunning, summarizeCheck as summarize, summarizeRollback } from "./update-report.ts";

/** Largest admin request body accepted, in bytes; every request body is a small JSON object. */
export const ADMIN_MAX_BODY_BYTES = 16 * 1024;

/** Fields of `GET /status` that come from other parts of the daemon. */
export interface StatusSource {
  version: string;
  mode: "factory" | "development";
  deviceId: string;
  ports: () => { duis: number; smki: number; admin: number };
  pendingResponses: () => number;
}

export interface AdminApiOptions {
  credential: AdminCredential;
  status: StatusSource;
  lock: LockService;
  updates: UpdateService;
  signatureValidation: SignatureValidationSwitch;
  inventory: Inventory;
  log: Logger;
}

/** Reason POST /lock/refresh sends for a skipped refresh, by lock mode. An online lock always refreshes. */
export const NO_REFRESH_REASONS: Record<LockMode, string | null> = {
  none: "Development mode has no lock authority key, so there is no lock to refresh. Provision the box with provisioning/factory.ts.",
  offline: "No update.metadataUrl (BOXD_UPDATE_METADATA_URL) or lock.checkInUrl (BOXD_LOCK_CHECK_IN_URL) is set, so the stored lock state applies unchanged.",
  online: null,
};

/**
 * Creates the admin API. While the box is locked every update endpoint
 * returns 423 with the lock's contact text, and `/status` and `/lock` show
 * the lock. `POST /lock/refresh` is never refused, because a refresh is how
 * an unlock arrives.
 */
export function createAdminApi(options: AdminApiOptions): Hono {
  const { lock, updates, log } = options;
  const app = new Hono();

  app.use("*", async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const token = /^Bearer ([A-Za-z0-9_-]{1,256})$/.exec(header)?.[1];
    if (token === undefined || !verifyAdminToken(token, options.credential)) {
      log.warn({ method: c.req.method, path: c.req.path, header: header === "" ? "missing" : "invalid" }, "admin request rejected: bad token");
      return c.json(
        { error: "Unauthorized", message: "Missing or wrong admin token. Send Authorization: Bearer <token> with the token the factory command printed." },
        401,
        { "WWW-Authenticate": 'Bearer realm="boxd"' },
      );
    }
    await next();
  });

  app.use(
    "*",
    bodyLimit({
      maxSize: ADMIN_MAX_BODY_BYTES,
      onError: (c) => c.json({ error: "PayloadTooLarge", message: `Request body is larger than ADMIN_MAX_BODY_BYTES (${ADMIN_MAX_BODY_BYTES} bytes).` }, 413),
    }),
  );

  app.get("/status", (c) =>
    c.json({
      version: options.status.version,
      mode: options.status.mode,
      deviceId: options.status.deviceId,
      ports: options.status.ports(),
      lock: lock.report(),
      pendingResponses: options.status.pendingResponses(),
      duisSignatureValidation: options.signatureValidation.enabled,
      updates: { enabled: updates.enabled, channel: updates.channel(), pin: updates.pinned(), installed: describeRunning(updates.running()) },
      slots: updates.slots(),
    }),
  );

  app.get("/duis/signature-validation", (c) => c.json({ enabled: options.signatureValidation.enabled }));

  app.put("/duis/signature-validation", async (c) => {
    const enabled = (await jsonBody(c)).enabled;
    if (typeof enabled !== "boolean") {
      throw new ApiRequestInvalid("enabled", `expected true or false, got ${JSON.stringify(enabled)}`);
    }

    options.signatureValidation.set(enabled);
    log.info({ enabled }, "DUIS signature validation switched");
    return c.json({ enabled });
  });

  app.get("/han/devices", (c) => c.json({ devices: options.inventory.all() }));

  app.get("/lock", (c) => c.json(lock.report()));

  app.post("/lock/refresh", async (c) => {
    const result = await lock.refresh();
    if (result === undefined) {
      return c.json({ ...lock.report(), refresh: null, reason: NO_REFRESH_REASONS[lock.mode] });
    }

    const outcome = {
      statement: result.statement instanceof Error ? { error: result.statement.name, message: result.statement.message } : { kind: result.statement.kind },
      checkIn: result.checkIn instanceof Error ? { error: result.checkIn.name, message: result.checkIn.message } : { status: result.checkIn.status },
    };
    return c.json({ ...lock.report(), refresh: outcome });
  });

  app.post("/update/check", async (c) => c.json(summarize(await updates.check())));

  app.put("/update/channel", async (c) => {
    const channel = (await jsonBody(c)).channel;
    if (typeof channel !== "string" || !(CHANNELS as readonly string[]).includes(channel)) {
      throw new ApiRequestInvalid("channel", `expected one of ${CHANNELS.join(", ")}, got ${JSON.stringify(channel)}`);
    }
    return c.json(summarize(await updates.followChannel(channel as Channel)));
  });

  app.put("/update/pin", async (c) => {
    const version = (await jsonBody(c)).version;
    if (typeof version !== "string" || version === "") {
      throw new ApiRequestInvalid("version", `expected a release version such as "2.4.0", got ${JSON.stringify(version)}`);
    }
    return c.json(summarize(await updates.pin(version)));
  });

  app.delete("/update/pin", async (c) => c.json(await updates.unpin()));

  app.post("/update/install", async (c) => {
    const confirmDowngrade = (await jsonBody(c, true)).confirmDowngrade ?? false;
    if (typeof confirmDowngrade !== "boolean") {
      throw new ApiRequestInvalid("confirmDowngrade", `expected true or false, got ${JSON.stringify(confirmDowngrade)}`);
    }

    const started = await updates.startInstall({ confirmDowngrade });
    return c.json({ ...started, progress: "/update/progress" }, 202);
  });

  app.get("/update/progress", (c) => {
    const progress = updates.progress();
    return c.json({ progress, line: progress === null ? null : formatProgressLine(progress) });
  });

  app.post("/update/rollback", async (c) => c.json(summarizeRollback(await updates.rollback())));

  app.get("/update/bad", (c) => c.json({ bad: updates.listBadReleases().map(describeMark) }));

  app.delete("/update/bad/:version", (c) => {
    const { cleared, bad } = updates.clearBad(c.req.param("version"));
    log.info({ version: c.req.param("version"), targets: cleared.map((mark) => mark.targetName) }, "bad-release mark cleared on request");
    return c.json({ cleared: cleared.map(describeMark), bad: bad.map(describeMark) });
  });

  app.notFound((c) => c.json({ error: "NotFound", message: `No admin endpoint ${c.req.method} ${c.req.path}; see the README section "Admin API".` }, 404));

  app.onError((error, c) => {
    const answer = errorAnswer(error);
    if (answer !== undefined) {
      log.warn({ method: c.req.method, path: c.req.path, status: answer.status, error: answer.body.error }, "admin request refused");
      return c.json(answer.body, answer.status);
    }

    log.error({ method: c.req.method, path: c.req.path, err: error }, "admin request failed inside boxd");
    return c.body(null, 500);
  });

  return app;
}

/** Reads the JSON object body; `optional` accepts an empty body as `{}`. */
async function jsonBody(c: Context, optional = false): Promise<Record<string, unknown>> {
  const text = await c.req.text();
  if (optional && text.trim() === "") {
    return {};
  }

  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ApiRequestInvalid("body", "expected a JSON object, got text that is not JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ApiRequestInvalid("body", "expected a JSON object");
  }
  return value as Record<string, unknown>;
}
