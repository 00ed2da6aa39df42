import { XMLParser, XMLValidator } from "fast-xml-parser";

import { formatEuiHyphenated, parseEui, type Eui } from "../../provisioning/devices/index.ts";
import {
  CERTIFICATE_STATUSES,
  CERTIFICATE_USAGES,
  MAX_CERTIFICATE_ROLE,
  MAX_SERIAL_HEX_DIGITS,
  type CertificateStatusCode,
  type CertificateUsageCode,
} from "./consts.ts";
import { SmkiRequestError } from "./errors.ts";
import type { SmkiCertificate } from "./store.ts";

/** A parsed CertificateSearchRequest. Exactly one of the two names is set. */
export interface SearchRequest {
  subjectAltName?: Eui;
  subjectName?: Eui;
  usage?: CertificateUsageCode;
  status?: CertificateStatusCode;
  role?: number;
}

const SEARCH_ELEMENTS = new Set([
  "CertificateSubjectAltName",
  "CertificateSubjectName",
  "CertificateUsage",
  "CertificateStatus",
  "CertificateRole",
]);
const RETRIEVE_ELEMENTS = new Set(["CertificateSerial"]);

const DECLARATION = /<!\s*(DOCTYPE|ENTITY)/i;

const parser = new XMLParser({
  ignoreAttributes: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  parseTagValue: false,
  processEntities: false,
  htmlEntities: false,
  removeNSPrefix: true,
  trimValues: true,
});

/**
 * Parses a request body whose root must be `rootName` with only text children
 * from `allowed`, each at most once. Rejects DOCTYPE and entity declarations
 * before parsing, so no entity is ever expanded. Raises SmkiRequestError.
 */
export function parseRequestElements(body: string, rootName: string, allowed: ReadonlySet<string>): Map<string, string> {
  if (DECLARATION.test(body)) {
    throw new SmkiRequestError("body", undefined, "DOCTYPE and ENTITY declarations are not accepted; send plain XML");
  }

  const validation = XMLValidator.validate(body);
  if (validation !== true) {
    const { msg, line, col } = validation.err;
    throw new SmkiRequestError("body", undefined, `it is not well-formed XML (${msg} at line ${line}, column ${col})`);
  }

  const document = parser.parse(body) as Record<string, unknown>;
  const roots = Object.keys(document);
  if (roots.length !== 1 || roots[0] !== rootName) {
    throw new SmkiRequestError("body", undefined, `the root element must be ${rootName}, found ${roots.join(", ") || "none"}`);
  }

  const root = document[rootName];
  const elements = new Map<string, string>();
  if (root === "") {
    return elements;
  }
  if (typeof root !== "object" || root === null) {
    throw new SmkiRequestError(rootName, undefined, "it must contain child elements, not text");
  }

  for (const [name, value] of Object.entries(root)) {
    if (!allowed.has(name)) {
      throw new SmkiRequestError(name, undefined, `it is not an element of ${rootName}; allowed are ${[...allowed].join(", ")}`);
    }
    if (Array.isArray(value)) {
      throw new SmkiRequestError(name, undefined, "the element appears more than once");
    }
    if (typeof value !== "string") {
      throw new SmkiRequestError(name, undefined, "the element must contain text only");
    }
    elements.set(name, value);
  }
  return elements;
}

/** Parses a CertificateSearchRequest body. Raises SmkiRequestError. */
export function parseSearchRequest(body: string): SearchRequest {
  const elements = parseRequestElements(body, "CertificateSearchRequest", SEARCH_ELEMENTS);

  const altName = elements.get("CertificateSubjectAltName");
  const name = elements.get("CertificateSubjectName");
  if ((altName === undefined) === (name === undefined)) {
    throw new SmkiRequestError(
      "CertificateSearchRequest",
      undefined,
      "it needs exactly one of CertificateSubjectAltName (device EUI) and CertificateSubjectName (organisation EUI)",
    );
  }

  const request: SearchRequest = {};
  if (altName !== undefined) {
    request.subjectAltName = requireEui("CertificateSubjectAltName", altName);
  }
  if (name !== undefined) {
    request.subjectName = requireEui("CertificateSubjectName", name);
  }

  const usage = elements.get("CertificateUsage");
  if (usage !== undefined) {
    request.usage = requireOneOf("CertificateUsage", usage, CERTIFICATE_USAGES);
  }
  const status = elements.get("CertificateStatus");
  if (status !== undefined) {
    request.status = requireOneOf("CertificateStatus", status, CERTIFICATE_STATUSES);
  }
  const role = elements.get("CertificateRole");
  if (role !== undefined) {
    request.role = requireRole(role);
  }
  return request;
}

/** Parses a CertificateDataRequest body and returns its serial. Raises SmkiRequestError. */
export function parseRetrieveRequest(body: string): { serial: bigint; serialText: string } {
  const elements = parseRequestElements(body, "CertificateDataRequest", RETRIEVE_ELEMENTS);

  const serialText = elements.get("CertificateSerial");
  if (serialText === undefined) {
    throw new SmkiRequestError("CertificateSerial", undefined, "the element is missing");
  }
  return { serial: parseSerial(serialText), serialText };
}

/** Parses a serial in hex, either case, with or without leading zeros. Raises SmkiRequestError. */
export function parseSerial(text: string): bigint {
  const pattern = new RegExp(`^[0-9a-fA-F]{1,${MAX_SERIAL_HEX_DIGITS}}$`);
  if (!pattern.test(text)) {
    throw new SmkiRequestError("CertificateSerial", text, `expected 1 to ${MAX_SERIAL_HEX_DIGITS} hex digits`);
  }
  return BigInt(`0x${text}`);
}

function requireEui(field: string, text: string): Eui {
  const eui = parseEui(text);
  if (eui === undefined) {
    throw new SmkiRequestError(field, text, "expected an EUI-64 as 8 hyphenated hex pairs, for example 00-DB-12-34-56-78-90-A0");
  }
  return eui;
}

function requireOneOf<T extends string>(field: string, text: string, values: readonly T[]): T {
  const match = values.find((value) => value === text.toUpperCase());
  if (match === undefined) {
    throw new SmkiRequestError(field, text, `expected one of ${values.join(", ")}`);
  }
  return match;
}

function requireRole(text: string): number {
  const role = /^\d{1,3}$/.test(text) ? Number(text) : Number.NaN;
  if (!(role <= MAX_CERTIFICATE_ROLE)) {
    throw new SmkiRequestError("CertificateRole", text, `expected a decimal role from 0 to ${MAX_CERTIFICATE_ROLE}`);
  }
  return role;
}

function escapeText(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

function element(name: string, text: string): string {
  return `<${name}>${escapeText(text)}</${name}>`;
}

const PROLOG = '<?xml version="1.0" encoding="UTF-8"?>';

/** Renders the fields of one certificate shared by search Result and retrieve CertificateResponse. */
function certificateFields(certificate: SmkiCertificate): string {
  const nameElement = certificate.kind === "device" ? "CertificateSubjectAltName" : "CertificateSubjectName";
  return [
    element("CertificateSerial", certificate.serialHex),
    element(nameElement, formatEuiHyphenated(certificate.eui)),
    element("CertificateStatus", certificate.status),
    certificate.role === undefined ? "" : element("CertificateRole", String(certificate.role)),
    element("CertificateUsage", certificate.usage),
    element("ManufacturingFlag", "false"),
  ].join("");
}

function successHeader(auditReference: string): string {
  return element("ResponseCode", "200") + element("ResponseMessage", "Success") + element("AuditReference", auditReference);
}

/** Renders a CertificateSearchResponse with one Result per certificate. */
export function renderSearchResponse(auditReference: string, certificates: SmkiCertificate[]): string {
  const results = certificates.map((certificate) => `<Result>${certificateFields(certificate)}</Result>`).join("");
  return `${PROLOG}<CertificateSearchResponse>${successHeader(auditReference)}${results}</CertificateSearchResponse>`;
}

/** Renders a CertificateDataResponse whose CertificateBody is the base64 DER, without PEM armour. */
export function renderRetrieveResponse(auditReference: string, certificate: SmkiCertificate): string {
  const body = element("CertificateBody", Buffer.from(certificate.certificateDer).toString("base64"));
  return `${PROLOG}<CertificateDataResponse>${successHeader(auditReference)}<CertificateResponse>${certificateFields(certificate)}${body}</CertificateResponse></CertificateDataResponse>`;
}

/** Renders an error response under the root element of the service's success response. */
export function renderErrorResponse(rootName: string, status: number, message: string, auditReference: string): string {
  return `${PROLOG}<${rootName}>${element("ResponseCode", String(status))}${element("ResponseMessage", message)}${element("AuditReference", auditReference)}</${rootName}>`;
}
