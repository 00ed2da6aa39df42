import { XmlComment, XmlElement, XmlText, type XmlTreeNode } from "libxml2-wasm";
import { NS } from "./constants.ts";

/**
 * Exclusive XML canonicalization (W3C exc-c14n, without comments) of a
 * `ds:SignedInfo`, written directly from the tree. libxml2's subtree c14n
 * calls back into JavaScript for every node and costs about 50 µs here;
 * this walk costs a few. It handles only the form signed DUIS requests use:
 * every element in the xmldsig namespace under one prefix, attributes
 * without a namespace, and text and comments as the only other nodes.
 * Anything else returns undefined and the caller falls back to libxml2.
 */
export function canonicalizeSignedInfo(signedInfo: XmlElement): string | undefined {
  const prefix = signedInfo.prefix;
  const declaration = prefix ? ` xmlns:${prefix}="${NS.ds}"` : ` xmlns="${NS.ds}"`;
  const out: string[] = [];
  return writeElement(signedInfo, prefix, declaration, out) ? out.join("") : undefined;
}

function writeElement(element: XmlElement, prefix: string, declaration: string, out: string[]): boolean {
  if (element.namespaceUri !== NS.ds || element.prefix !== prefix) return false;

  const qualifiedName = prefix ? `${prefix}:${element.name}` : element.name;
  const attributes: Array<[string, string]> = [];
  for (const attribute of element.attrs) {
    if (attribute.namespaceUri) return false;
    attributes.push([attribute.name, attribute.value]);
  }
  attributes.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

  out.push(`<${qualifiedName}${declaration}`);
  for (const [name, value] of attributes) out.push(` ${name}="${escapeAttribute(value)}"`);
  out.push(">");

  for (let node: XmlTreeNode | null = element.firstChild; node; node = node.next) {
    if (node instanceof XmlElement) {
      if (!writeElement(node, prefix, "", out)) return false;
    } else if (node instanceof XmlText) {
      out.push(escapeText(node.content));
    } else if (!(node instanceof XmlComment)) {
      return false;
    }
  }

  out.push(`</${qualifiedName}>`);
  return true;
}

function escapeText(text: string): string {
  return text.replace(/[&<>\r]/g, (char) => TEXT_ESCAPES[char]!);
}

function escapeAttribute(value: string): string {
  return value.replace(/[&<"\t\n\r]/g, (char) => ATTRIBUTE_ESCAPES[char]!);
}

const TEXT_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#xD;" };
const ATTRIBUTE_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  '"': "&quot;",
  "\t": "&#x9;",
  "\n": "&#xA;",
  "\r": "&#xD;",
};
