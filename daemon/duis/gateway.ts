import { Hono } from "hono";
import type { Logger } from "../log.ts";
import { checkEligibility, serviceVariant, type ServiceVariant, type UserRole } from "./access.ts";
import { isXmlContentType, readCappedBody } from "./body.ts";
import type { CertificateLibrary } from "./certificates.ts";
import { ResponseCode, type ResponseCodeValue } from "./codes.ts";
import { WEB_SERVICE_NAME, type WebService } from "./constants.ts";
import { DuisRejection, TransportFault } from "./errors.ts";
import type { Eui } from "./eui.ts";
import type { CounterStore } from "./counter-store.ts";
import { parseRequestId, readRequest, type DuisRequest } from "./request.ts";
import { buildResponse, responseMessage } from "./response.ts";
import { signCanonicalDocument, verifyEnvelopedSignature, type ResponseSigner } from "./signature.ts";
import { checkCommandVariant } from "./variant.ts";
import { parseUntrusted, validateAgainstSchema } from "./xml.ts";

/** Synchronous outcome of one accepted request, as the emulator returns it. */
export interface ServiceOutcome {
  code: ResponseCodeValue;
  /** Canonical XML of the ResponseMessage payload choice (e.g. a DSPInventory), for I0. */
  payload?: string;
  /** Log-only reason for a non-success code. */
  reason?: string;
  /** ResponseDateTime of the synchronous response, when the emulator sets it, so an I99 is stamped no later than its async response. */
  dateTime?: Date;
}

/** The emulator side of the gateway: executes an accepted, authorised request. */
export interface ServiceHandler {
  handle(request: DuisRequest, variant: ServiceVariant): Promise<ServiceOutcome>;
}

export interface GatewayOptions {
  certificates: CertificateLibrary;
  counters: CounterStore;
  users: ReadonlyMap<Eui, readonly UserRole[]>;
  /** Read at every request, so the admin API can switch it. */
  validateSignatures: () => boolean;
  signer: ResponseSigner;
  handler: ServiceHandler;
  maxBodyBytes: number;
  log: Logger;
  now?: () => Date;
  /**
   * Returns why the box may not serve right now (for example, locked by the
   * DCC), or undefined. The gateway then responds with HTTP 503 and the
   * reason as plain text, before it reads the body.
   */
  serviceGuard?: () => string | undefined;
}

const ENDPOINTS: Record<string, WebService> = { serviceS: "S", serviceD: "D", serviceT: "T" };

/** Recovers the RequestID and service reference of a request the schema rejected, to echo them. */
function salvageHeader(body: Uint8Array): { requestId?: string; serviceReference?: string; variant?: string } {
  const text = new TextDecoder().decode(body.subarray(0, 4096));
  const requestId = /<(?:\w+:)?RequestID>\s*([0-9A-Fa-f-]{23}:[0-9A-Fa-f-]{23}:\d{1,20})\s*</.exec(text)?.[1];
  const variant = /<(?:\w+:)?ServiceReferenceVariant>\s*([\d.]+)\s*</.exec(text)?.[1];
  const known = variant ? serviceVariant(variant) : undefined;
  return { requestId, serviceReference: known?.serviceReference, variant: known?.variant };
}

/**
 * The DUIS gateway: `POST /api/v1/serviceS|D|T` with `application/xml`.
 * Every DUIS outcome, E-codes included, is HTTP 200 with a signed DUIS
 * Response. 405, 413 and 415 are transport faults, and 503 means the box may
 * not serve (locked). 400 is kept for a body so broken that no schema-valid
 * Response can echo its service reference.
 *
 * Pipeline, one module per step: size cap (body.ts), safe parse and
 * DUIS 5.4 schema (xml.ts), XML signature (signature.ts), anti-replay
 * (the rule in replay.ts, kept on disk by counter-store.ts), access
 * control (access.ts), command variant against endpoint (variant.ts),
 * then the emulator.
 */
export function createGateway(options: GatewayOptions): Hono {
  const now = options.now ?? (() => new Date());
  const app = new Hono();

  const signed = (canonical: string) =>
    new Response(signCanonicalDocument(canonical, options.signer), {
      status: 200,
      headers: { "Content-Type": "application/xml; charset=utf-8" },
    });

  app.all("/api/v1/:service", async (c) => {
    const endpoint = ENDPOINTS[c.req.param("service")];
    if (!endpoint) return c.text(`unknown DUIS service; use /api/v1/serviceS, serviceD or serviceT`, 404);
    if (c.req.method !== "POST") {
      return c.text(`${c.req.method} is not allowed on the ${WEB_SERVICE_NAME[endpoint]}; use POST`, 405, { Allow: "POST" });
    }
    const refusal = options.serviceGuard?.();
    if (refusal) {
      options.log.warn({ endpoint, reason: refusal }, "request rejected: service unavailable");
      return c.text(refusal, 503);
    }
    if (!isXmlContentType(c.req.header("content-type") ?? null)) {
      return c.text(`Content-Type must be application/xml, got ${c.req.header("content-type") ?? "none"}`, 415);
    }

    let body: Uint8Array;
    try {
      body = await readCappedBody(c.req.raw, options.maxBodyBytes);
    } catch (error) {
      if (error instanceof TransportFault) {
        options.log.warn({ endpoint, status: error.status, reason: error.message }, "request rejected at the transport");
        return c.text(error.message, error.status);
      }
      throw error;
    }

    try {
      return signed(await processRequest(body, endpoint, options, now));
    } catch (error) {
      if (!(error instanceof DuisRejection)) throw error;
      return rejectionResponse(error, body, endpoint, options, now, signed, c.text.bind(c));
    }
  });

  app.onError((error, c) => {
    options.log.error({ err: error }, "DUIS request failed inside boxd");
    return c.text("internal error; see the boxd log", 500);
  });

  return app;
}

function rejectionResponse(
  rejection: DuisRejection,
  body: Uint8Array,
  endpoint: WebService,
  options: GatewayOptions,
  now: () => Date,
  signed: (canonical: string) => Response,
  text: (message: string, status: 400) => Response,
): Response {
  const salvaged = rejection.serviceReferenceVariant ? undefined : salvageHeader(body);
  const requestIdText = rejection.requestId?.text ?? salvaged?.requestId;
  const serviceReference = rejection.serviceReference ?? salvaged?.serviceReference;
  const variant = rejection.serviceReferenceVariant ?? salvaged?.variant;

  options.log.warn({ endpoint, requestId: requestIdText, srv: variant, code: rejection.code, reason: rejection.reason }, "request rejected");
  if (!serviceReference || !variant) {
    return text(`${rejection.code}: ${rejection.reason}; no ServiceReferenceVariant could be read to answer with a DUIS Response`, 400);
  }

  const requestId = requestIdText ? parseRequestId(requestIdText) : undefined;
  return signed(
    buildResponse({ requestId, code: rejection.code, dateTime: now() }, responseMessage(serviceReference, variant)),
  );
}

/** Runs the checks in order and hands an accepted request to the emulator. Returns canonical XML. */
async function processRequest(body: Uint8Array, endpoint: WebService, options: GatewayOptions, now: () => Date): Promise<string> {
  const doc = parseUntrusted(body);
  let request: DuisRequest;
  let signer: Eui | undefined;
  try {
    validateAgainstSchema(doc);
    if (options.validateSignatures()) {
      signer = verifyEnvelopedSignature(doc, options.certificates).certificate.eui;
    }
    request = readRequest(doc);
  } finally {
    doc.dispose();
  }

  const { requestId, serviceReference, serviceReferenceVariant: srv } = request;
  const fail = (code: ResponseCodeValue, reason: string): never => {
    throw new DuisRejection(code, reason, requestId, serviceReference, srv);
  };

  // The signer's certificate must belong to the user the RequestID names.
  if (signer !== undefined && signer !== requestId.originator) {
    fail(ResponseCode.notAuthenticated, `request is signed by ${signer} but its RequestID originator is ${requestId.originator}`);
  }

  const variant = serviceVariant(srv);
  if (!variant || variant.serviceReference !== serviceReference) {
    fail(ResponseCode.invalidCommandVariant, `ServiceReference ${serviceReference} with variant ${srv} is not in the DUIS request matrix`);
  }

  const replay = await options.counters.checkAndAccept(requestId.originator, requestId.target, requestId.counter, request.commandVariant);
  if (replay) fail(ResponseCode.notAuthenticated, replay);

  const ineligible = checkEligibility(options.users, requestId.originator, variant!);
  if (ineligible) fail(ResponseCode.roleNotEligible, ineligible);

  const wrongVariant = checkCommandVariant(request.commandVariant, endpoint, variant!);
  if (wrongVariant) fail(wrongVariant.code, wrongVariant.reason);

  const outcome = await options.handler.handle(request, variant!);
  const level = outcome.code === ResponseCode.success || outcome.code === ResponseCode.acknowledged ? "info" : "warn";
  options.log[level]({ endpoint, requestId: requestId.text, srv, cv: request.commandVariant, code: outcome.code, reason: outcome.reason }, "request answered");

  return buildResponse(
    { requestId, code: outcome.code, dateTime: outcome.dateTime ?? now() },
    responseMessage(serviceReference, srv, outcome.code === ResponseCode.success ? (outcome.payload ?? "") : ""),
  );
}
