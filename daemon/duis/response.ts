import type { ResponseCodeValue } from "./codes.ts";
import { NS, RESPONSE_SCHEMA_VERSION } from "./constants.ts";
import { formatEui } from "./eui.ts";
import type { RequestId } from "./request.ts";

/**
 * Builders of DUIS responses in canonical form: the text is exactly what
 * inclusive c14n outputs for it (namespace declarations sorted by prefix,
 * no empty-element tags, escaped text), so the signer can digest it as it
 * is. Layout follows DCC Boxed: `sr:Response` with the `ns3` (xmldsig)
 * and `ra` namespaces declared on the root.
 */

/** Escapes text content as canonical XML writes it. */
export function escapeText(text: string): string {
  return text.replace(/[&<>\r]/g, (char) => {
    switch (char) {
      case "&":
        return "&amp;";
      case "<":
        return "&lt;";
      case ">":
        return "&gt;";
      default:
        return "&#xD;";
    }
  });
}

/** Writes `<sr:name>text</sr:name>`. */
export function element(name: string, text: string): string {
  return `<sr:${name}>${escapeText(text)}</sr:${name}>`;
}

/** Writes `<sr:name>` around already-built children. */
export function group(name: string, children: string): string {
  return `<sr:${name}>${children}</sr:${name}>`;
}

/** `ResponseDateTime` as DCC Boxed writes it: UTC with milliseconds and `Z`. */
export function responseDateTime(now: Date): string {
  return now.toISOString();
}

export interface ResponseHeader {
  requestId?: RequestId;
  /** Set on device responses: `<device>:<originator>:<counter>`. */
  responseId?: string;
  code: ResponseCodeValue;
  dateTime: Date;
}

/** Returns the ResponseID of a device response: target and originator swapped, same counter. */
export function responseIdFor(requestId: RequestId): string {
  return `${formatEui(requestId.target)}:${formatEui(requestId.originator)}:${requestId.counter}`;
}

/** Builds a whole canonical `sr:Response` around a body choice (e.g. a ResponseMessage). */
export function buildResponse(header: ResponseHeader, body: string): string {
  const headerXml =
    (header.requestId ? element("RequestID", header.requestId.text) : "") +
    (header.responseId ? element("ResponseID", header.responseId) : "") +
    element("ResponseCode", header.code) +
    element("ResponseDateTime", responseDateTime(header.dateTime));

  return (
    `<sr:Response xmlns:ns3="${NS.ds}" xmlns:ra="${NS.ra}" xmlns:sr="${NS.sr}" schemaVersion="${RESPONSE_SCHEMA_VERSION}">` +
    group("Header", headerXml) +
    group("Body", body) +
    `</sr:Response>`
  );
}

/** Writes a `ResponseMessage` with the service reference, its variant and an optional payload choice. */
export function responseMessage(serviceReference: string, serviceReferenceVariant: string, payload = ""): string {
  return group(
    "ResponseMessage",
    element("ServiceReference", serviceReference) + element("ServiceReferenceVariant", serviceReferenceVariant) + payload,
  );
}
