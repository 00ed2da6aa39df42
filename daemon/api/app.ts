/**
 * The admin API of boxd: JSON over HTTP on `admin.host`:`admin.port`, every
 * request authenticated with `Authorization: Bearer <admin token>`.
 */
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { verifyAdminToken, type AdminCredential } from "../../provisioning/index.ts";
import { CHANNELS, type Channel } from "../../update/client/release.ts";
import type { CheckReport } from "../../update/client/client.ts";
import { formatProgressLine } from "../../update/install/index.ts";
import type { LockService } from "../../update/lock-service.ts";
import { describeRelease, type UpdateService } from "../../update/service.ts";
import type { SignatureValidationSwitch } from "../config/switches.ts";
import type { Inventory } from "../emulator/han.ts";
import type { Logger } from "../log.ts";
import { ApiRequestInvalid, errorAnswer } from "./errors.ts";

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
      updates: { enabled: updates.enabled, channel: updates.channel() },
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
    const outcome =
      result === undefined
        ? null
        : {
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

  app.post("/update/rollback", async (c) => c.json(await updates.rollback()));

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

/** Returns the check report without the raw signed custom objects. */
function summarize(report: CheckReport): Record<string, unknown> {
  const decision = report.decision;
  return {
    channel: report.channel,
    pin: report.pin ?? null,
    installed: describeRelease(report.installed),
    latest: describeRelease(report.latest),
    newerThanPin: report.newerThanPin.map(describeRelease),
    decision:
      decision.action === "error"
        ? { action: "error", error: decision.error.name, message: decision.error.message }
        : {
            action: decision.action,
            ...("release" in decision ? { release: describeRelease(decision.release), version: decision.release.version } : {}),
            ...("reason" in decision ? { reason: decision.reason } : {}),
          },
    configPatches: report.configPatches.map((release) => release.name),
    installedRevoked: report.installedRevoked,
    rejected: report.rejected.map((item) => ({ target: item.name, error: item.error.message })),
    autoInstall: report.autoInstall,
  };
}
