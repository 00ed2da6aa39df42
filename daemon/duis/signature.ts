import { createHash, sign as signBytes, verify as verifyBytes, type KeyObject } from "node:crypto";
import { XmlC14NMode, XmlElement, type XmlDocument } from "libxml2-wasm";
import { canonicalizeSignedInfo } from "./c14n.ts";
import type { CertificateLibrary, SigningCertificate } from "./certificates.ts";
import { ResponseCode } from "./codes.ts";
import { ALGORITHM, NS } from "./constants.ts";
import { DuisRejection } from "./errors.ts";

/**
 * The DUIS XML signature profile (DUIS clause on message signing, as DCC
 * Boxed and its Java signing tool apply it): one enveloped `ds:Signature`,
 * the last child of the root; SignedInfo canonicalized with exclusive c14n;
 * ECDSA P-256 over SHA-256 with the raw r‖s value; one Reference with
 * `URI=""` whose only transform is enveloped-signature, so XML-DSig's default
 * (inclusive c14n 1.0) turns the node-set into the digested octets; SHA-256
 * digest; the signer named by `X509IssuerSerial` with a decimal serial.
 */

type C14nMode = (typeof XmlC14NMode)[keyof typeof XmlC14NMode];

/** Result of a verified signature: the certificate that signed the document. */
export interface VerifiedSignature {
  certificate: SigningCertificate;
}

function reject(reason: string): never {
  throw new DuisRejection(ResponseCode.notAuthenticated, reason);
}

function elementChildren(element: XmlElement): XmlElement[] {
  const children: XmlElement[] = [];
  for (let node = element.firstChild; node; node = node.next) {
    if (node instanceof XmlElement) children.push(node);
  }
  return children;
}

function expectElement(node: XmlElement | undefined, localName: string, where: string): XmlElement {
  if (!node || node.name !== localName || node.namespaceUri !== NS.ds) {
    reject(`signature is not in the DUIS profile: expected ds:${localName} in ${where}, found ${node ? node.name : "nothing"}`);
  }
  return node;
}

function algorithmOf(element: XmlElement): string {
  return element.attr("Algorithm")?.value ?? "";
}

/**
 * Verifies the enveloped signature of a parsed, schema-valid request and
 * removes the Signature element from `doc`. Rejects with E1 when the
 * signature is missing, not in the profile, signed by an unknown serial,
 * or does not verify.
 */
export function verifyEnvelopedSignature(doc: XmlDocument, library: CertificateLibrary): VerifiedSignature {
  // DUIS Schema 5.4 allows one ds:Signature, as the root's last child, and the
  // xmldsig schema admits no second one inside it. The document has passed
  // the schema, so the root's last child is the only place to look.
  const signature = elementChildren(doc.root).at(-1);
  if (!signature || signature.name !== "Signature" || signature.namespaceUri !== NS.ds) {
    reject("request has no ds:Signature as the last child of its root; sign it with the originator's key");
  }

  const [signedInfo, signatureValue, keyInfo, ...extra] = elementChildren(signature!);
  expectElement(signedInfo, "SignedInfo", "ds:Signature");
  expectElement(signatureValue, "SignatureValue", "ds:Signature");
  expectElement(keyInfo, "KeyInfo", "ds:Signature");
  if (extra.length > 0) reject("ds:Signature has elements after ds:KeyInfo");

  const digestCanonicalization = checkSignedInfo(signedInfo!);
  const certificate = resolveSigner(keyInfo!, library);

  // The SignatureValue is base64 of r‖s; Java wraps it with CR LF every 76 characters.
  const rawSignature = Buffer.from(signatureValue!.content.replace(/\s+/g, ""), "base64");
  if (rawSignature.length !== 64) reject(`SignatureValue decodes to ${rawSignature.length} bytes; ECDSA P-256 r‖s is 64`);

  const signedInfoOctets =
    canonicalizeSignedInfo(signedInfo!) ?? signedInfo!.canonicalizeToString({ mode: XmlC14NMode.XML_C14N_EXCLUSIVE_1_0 });
  const signatureValid = verifyBytes(
    "sha256",
    Buffer.from(signedInfoOctets, "utf8"),
    { key: certificate.publicKey, dsaEncoding: "ieee-p1363" },
    rawSignature,
  );
  if (!signatureValid) reject(`SignatureValue does not verify with certificate serial ${certificate.serial}`);

  // Enveloped-signature transform: digest the document without its Signature.
  const digestValue = digestValueOf(signedInfo!);
  signature!.remove();
  const documentOctets = doc.canonicalizeToString({ mode: digestCanonicalization });
  const digest = createHash("sha256").update(documentOctets, "utf8").digest("base64");
  if (digest !== digestValue) reject("DigestValue does not match the signed document; the request was changed after signing");

  return { certificate };
}

/** Checks SignedInfo against the profile and returns the c14n mode of the reference digest. */
function checkSignedInfo(signedInfo: XmlElement): C14nMode {
  const [c14nMethod, signatureMethod, reference, ...extra] = elementChildren(signedInfo);
  expectElement(c14nMethod, "CanonicalizationMethod", "ds:SignedInfo");
  expectElement(signatureMethod, "SignatureMethod", "ds:SignedInfo");
  expectElement(reference, "Reference", "ds:SignedInfo");
  if (extra.length > 0) reject("ds:SignedInfo must hold exactly one ds:Reference");

  if (algorithmOf(c14nMethod!) !== ALGORITHM.excC14n) {
    reject(`CanonicalizationMethod ${algorithmOf(c14nMethod!)} is not exclusive c14n (${ALGORITHM.excC14n})`);
  }
  if (algorithmOf(signatureMethod!) !== ALGORITHM.ecdsaSha256) {
    reject(`SignatureMethod ${algorithmOf(signatureMethod!)} is not ecdsa-sha256 (${ALGORITHM.ecdsaSha256})`);
  }

  // URI="" is the whole document; an ID-based reference could point at a copy of the body.
  const uri = reference!.attr("URI");
  if (!uri || uri.value !== "") reject(`Reference URI must be "" (the whole document), found ${uri ? `"${uri.value}"` : "none"}`);

  const [transforms, digestMethod, digestValue, ...rest] = elementChildren(reference!);
  expectElement(transforms, "Transforms", "ds:Reference");
  expectElement(digestMethod, "DigestMethod", "ds:Reference");
  expectElement(digestValue, "DigestValue", "ds:Reference");
  if (rest.length > 0) reject("ds:Reference has elements after ds:DigestValue");
  if (algorithmOf(digestMethod!) !== ALGORITHM.sha256) {
    reject(`DigestMethod ${algorithmOf(digestMethod!)} is not SHA-256 (${ALGORITHM.sha256})`);
  }

  // Enveloped-signature alone leaves a node-set that inclusive c14n turns into octets;
  // an explicit exclusive c14n transform after it is also accepted.
  const algorithms = elementChildren(transforms!).map((transform) => {
    expectElement(transform, "Transform", "ds:Transforms");
    return algorithmOf(transform);
  });
  if (algorithms.length === 1 && algorithms[0] === ALGORITHM.envelopedSignature) return XmlC14NMode.XML_C14N_1_0;
  if (algorithms.length === 2 && algorithms[0] === ALGORITHM.envelopedSignature && algorithms[1] === ALGORITHM.excC14n) {
    return XmlC14NMode.XML_C14N_EXCLUSIVE_1_0;
  }
  return reject(`Transforms ${algorithms.join(", ")} are not enveloped-signature (optionally followed by exclusive c14n)`);
}

function digestValueOf(signedInfo: XmlElement): string {
  const reference = elementChildren(signedInfo)[2]!;
  return elementChildren(reference)[2]!.content.replace(/\s+/g, "");
}

/** Returns the ds children of `element` with this local name. */
function dsChildren(element: XmlElement, localName: string): XmlElement[] {
  return elementChildren(element).filter((child) => child.name === localName && child.namespaceUri === NS.ds);
}

function resolveSigner(keyInfo: XmlElement, library: CertificateLibrary): SigningCertificate {
  const serials = dsChildren(keyInfo, "X509Data")
    .flatMap((data) => dsChildren(data, "X509IssuerSerial"))
    .flatMap((issuerSerial) => dsChildren(issuerSerial, "X509SerialNumber"));
  if (serials.length !== 1) reject(`KeyInfo must name exactly one X509SerialNumber, found ${serials.length}`);

  const serial = serials[0]!.content.trim();
  if (!/^\d+$/.test(serial)) reject(`X509SerialNumber "${serial}" is not a decimal serial`);

  const certificate = library.bySerialNumber(serial);
  if (!certificate) reject(`no known organisation certificate has serial ${serial}`);
  return certificate;
}

/** The DSP's signing identity for responses. */
export interface ResponseSigner {
  privateKey: KeyObject;
  /** RFC 2253 issuer name, `CN=Z1,OU=07` for the ZAZ1 test PKI. */
  issuerName: string;
  /** Decimal serial written into KeyInfo. */
  serial: string;
}

/**
 * Signs a DUIS document that is already in canonical form, as boxd writes its
 * responses. `canonicalDocument` is the whole document without its Signature,
 * written exactly as inclusive c14n would output it and ending with the
 * root's end tag; the signature goes in as the root's last child, declaring
 * the ds namespace itself as DCC Boxed does. Writing the canonical form
 * directly is what lets boxd sign without re-parsing its own output.
 */
export function signCanonicalDocument(canonicalDocument: string, signer: ResponseSigner): string {
  const digest = createHash("sha256").update(canonicalDocument, "utf8").digest("base64");
  const signedInfoBody =
    `<ds:CanonicalizationMethod Algorithm="${ALGORITHM.excC14n}"></ds:CanonicalizationMethod>` +
    `<ds:SignatureMethod Algorithm="${ALGORITHM.ecdsaSha256}"></ds:SignatureMethod>` +
    `<ds:Reference URI=""><ds:Transforms><ds:Transform Algorithm="${ALGORITHM.envelopedSignature}"></ds:Transform></ds:Transforms>` +
    `<ds:DigestMethod Algorithm="${ALGORITHM.sha256}"></ds:DigestMethod><ds:DigestValue>${digest}</ds:DigestValue></ds:Reference>`;

  // Exclusive c14n of SignedInfo re-declares the ds namespace on SignedInfo itself.
  const signedInfoCanonical = `<ds:SignedInfo xmlns:ds="${NS.ds}">${signedInfoBody}</ds:SignedInfo>`;
  const value = signBytes("sha256", Buffer.from(signedInfoCanonical, "utf8"), {
    key: signer.privateKey,
    dsaEncoding: "ieee-p1363",
  }).toString("base64");

  const signature =
    `<ds:Signature xmlns:ds="${NS.ds}"><ds:SignedInfo>${signedInfoBody}</ds:SignedInfo>` +
    `<ds:SignatureValue>${value}</ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509IssuerSerial>` +
    `<ds:X509IssuerName>${signer.issuerName}</ds:X509IssuerName><ds:X509SerialNumber>${signer.serial}</ds:X509SerialNumber>` +
    `</ds:X509IssuerSerial></ds:X509Data></ds:KeyInfo></ds:Signature>`;

  const close = canonicalDocument.lastIndexOf("</");
  return `<?xml version="1.0" encoding="UTF-8"?>${canonicalDocument.slice(0, close)}${signature}${canonicalDocument.slice(close)}`;
}
