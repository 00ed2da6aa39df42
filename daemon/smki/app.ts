import { randomUUID } from "node:crypto";

import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";

import { logger, type Logger } from "../log.ts";
import { CERTIFICATE_SEARCH_PATH, RETRIEVE_CERTIFICATE_PATH, SMKI_MAX_REQUEST_BYTES } from "./consts.ts";
import { SmkiNotFoundError, SmkiRequestError } from "./errors.ts";
import type { SmkiCertificate, SmkiStore } from "./store.ts";
import {
  parseRetrieveRequest,
  parseSearchRequest,
  renderErrorResponse,
  renderRetrieveResponse,
  renderSearchResponse,
  type SearchRequest,
} from "./xml.ts";

export interface SmkiAppOptions {
  store: SmkiStore;
  log?: Logger;
  /** Request body cap in bytes. The default is SMKI_MAX_REQUEST_BYTES. */
  maxRequestBytes?: number;
}

const XML_HEADERS = { "content-type": "application/xml; charset=utf-8" };

/**
 * Creates the SMKI repository app: `POST /services/certificatesearch` and
 * `POST /services/retrievecertificate`, XML in and out, as DCC Boxed serves
 * them on port 8083. The `apikey` query parameter that the DCC Boxed client
 * sends is accepted and not checked. Status codes follow the client: 200
 * found, 401 invalid parameters, 402 not found, 413 body over the cap.
 */
export function createSmkiApp(options: SmkiAppOptions): Hono {
  const { store } = options;
  const log = options.log ?? logger("smki");
  const maxSize = options.maxRequestBytes ?? SMKI_MAX_REQUEST_BYTES;
  const app = new Hono();

  const limit = (rootName: string) =>
    bodyLimit({
      maxSize,
      onError: (c) => {
        const auditReference = randomUUID();
        const message = `The request body is larger than SMKI_MAX_REQUEST_BYTES (${maxSize} bytes); a search or retrieve request is under 200 bytes.`;
        log.info({ auditReference, path: c.req.path, status: 413, maxSize }, "rejected SMKI request over the size cap");
        return c.body(renderErrorResponse(rootName, 413, message, auditReference), 413, XML_HEADERS);
      },
    });

  app.post(CERTIFICATE_SEARCH_PATH, limit("CertificateSearchResponse"), (c) =>
    answer(c, log, "CertificateSearchResponse", async (auditReference) => {
      const request = parseSearchRequest(await c.req.text());
      const certificates = search(store, request);
      log.debug({ auditReference, results: certificates.length }, "returned certificate search results");
      return renderSearchResponse(auditReference, certificates);
    }),
  );

  app.post(RETRIEVE_CERTIFICATE_PATH, limit("CertificateDataResponse"), (c) =>
    answer(c, log, "CertificateDataResponse", async (auditReference) => {
      const { serial, serialText } = parseRetrieveRequest(await c.req.text());
      const certificate = store.findBySerial(serial);
      if (certificate === undefined) {
        throw new SmkiNotFoundError("CertificateSerial", serialText);
      }
      log.debug({ auditReference, serial: certificate.serialHex }, "returned certificate");
      return renderRetrieveResponse(auditReference, certificate);
    }),
  );

  app.on(["GET", "PUT", "DELETE", "PATCH"], [CERTIFICATE_SEARCH_PATH, RETRIEVE_CERTIFICATE_PATH], (c) =>
    c.body(null, 405, { allow: "POST" }),
  );

  app.onError((error, c) => {
    log.error({ err: error, path: c.req.path }, "SMKI request failed");
    return c.body(null, 500);
  });

  return app;
}

/** Runs one request handler and maps the caller errors to the statuses the DCC Boxed client expects. */
async function answer(c: Context, log: Logger, rootName: string, handle: (auditReference: string) => Promise<string>): Promise<Response> {
  const auditReference = randomUUID();
  try {
    return c.body(await handle(auditReference), 200, XML_HEADERS);
  } catch (error) {
    if (!(error instanceof SmkiRequestError || error instanceof SmkiNotFoundError)) {
      throw error;
    }

    log.info({ auditReference, path: c.req.path, status: error.status, field: error.field, reason: error.message }, "rejected SMKI request");
    return c.body(renderErrorResponse(rootName, error.status, error.message, auditReference), error.status, XML_HEADERS);
  }
}

/** Applies a search: the subject picks device or organisation certificates, then the optional filters apply. */
function search(store: SmkiStore, request: SearchRequest): SmkiCertificate[] {
  let certificates: SmkiCertificate[];
  let field: string;
  let eui: string;
  if (request.subjectAltName !== undefined) {
    certificates = store.findDeviceCertificates(request.subjectAltName);
    field = "CertificateSubjectAltName";
    eui = request.subjectAltName;
  } else if (request.subjectName !== undefined) {
    certificates = store.findOrganisationCertificates(request.subjectName);
    field = "CertificateSubjectName";
    eui = request.subjectName;
  } else {
    throw new SmkiRequestError("CertificateSearchRequest", undefined, "it names no subject");
  }

  const matches = certificates.filter(
    (certificate) =>
      (request.usage === undefined || certificate.usage === request.usage) &&
      (request.status === undefined || certificate.status === request.status) &&
      (request.role === undefined || certificate.role === request.role),
  );
  if (matches.length === 0) {
    throw new SmkiNotFoundError(field, eui);
  }
  return matches;
}
