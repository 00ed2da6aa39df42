import { XmlElement, type XmlDocument } from "libxml2-wasm";
import { parseEui, type Eui } from "./eui.ts";
import { NS } from "./constants.ts";

/** `<originator>:<target>:<counter>` of a DUIS RequestID. */
export interface RequestId {
  originator: Eui;
  target: Eui;
  /** The anti-replay counter, a uint64. */
  counter: bigint;
  /** The RequestID exactly as the request carried it, echoed in every response. */
  text: string;
}

/** The parts of a schema-valid DUIS request that the gateway and the emulator act on. */
export interface DuisRequest {
  requestId: RequestId;
  commandVariant: number;
  serviceReference: string;
  serviceReferenceVariant: string;
  /** Local name of the element inside `sr:Body`, e.g. `ReadInventory` or `SignedPreCommand`. */
  bodyElement: string;
  /**
   * Text of every leaf element below the body element, keyed by its path of
   * local names under it, e.g. `DeviceID` or `GBCSPayload`.
   */
  bodyFields: Map<string, string>;
}

/** Parses a RequestID; the schema has already checked its pattern. */
export function parseRequestId(text: string): RequestId {
  const [originator, target, counter] = text.split(":");
  return {
    originator: parseEui(originator!),
    target: parseEui(target!),
    counter: BigInt(counter!),
    text,
  };
}

function childElements(element: XmlElement): XmlElement[] {
  const children: XmlElement[] = [];
  for (let node = element.firstChild; node; node = node.next) {
    if (node instanceof XmlElement && node.namespaceUri === NS.sr) children.push(node);
  }
  return children;
}

function collectLeaves(element: XmlElement, prefix: string, into: Map<string, string>): void {
  const children = childElements(element);
  if (children.length === 0) {
    if (prefix) into.set(prefix, element.content.trim());
    return;
  }
  for (const child of children) {
    collectLeaves(child, prefix ? `${prefix}/${child.name}` : child.name, into);
  }
}

/**
 * Reads the header and body of a request that passed DUIS Schema 5.4, so
 * every element used here exists and has the right type.
 */
export function readRequest(doc: XmlDocument): DuisRequest {
  const [header, body] = childElements(doc.root);
  const fields = new Map<string, string>();
  for (const element of childElements(header!)) fields.set(element.name, element.content.trim());

  const [service] = childElements(body!);
  const bodyFields = new Map<string, string>();
  collectLeaves(service!, "", bodyFields);

  return {
    requestId: parseRequestId(fields.get("RequestID")!),
    commandVariant: Number(fields.get("CommandVariant")),
    serviceReference: fields.get("ServiceReference")!,
    serviceReferenceVariant: fields.get("ServiceReferenceVariant")!,
    bodyElement: service!.name,
    bodyFields,
  };
}
