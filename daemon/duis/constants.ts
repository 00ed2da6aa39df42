/** XML namespaces of DUIS 5.4 and XML-DSig. */
export const NS = {
  sr: "http://www.dccinterface.co.uk/ServiceUserGateway",
  ra: "http://www.dccinterface.co.uk/ResponseAndAlert",
  ds: "http://www.w3.org/2000/09/xmldsig#",
} as const;

/** Algorithm URIs of the DUIS XML signature profile. */
export const ALGORITHM = {
  excC14n: "http://www.w3.org/2001/10/xml-exc-c14n#",
  ecdsaSha256: "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
  envelopedSignature: "http://www.w3.org/2000/09/xmldsig#enveloped-signature",
  sha256: "http://www.w3.org/2001/04/xmlenc#sha256",
} as const;

/** The schema version boxd writes on its responses. */
export const RESPONSE_SCHEMA_VERSION = "5.4";

/** The DCC's own EUI: the target of every non-device request and the access control broker. */
export const DCC_EUI = "90B3D51F30000002";

/** The GBCS version that pre-commands and inventory records report. */
export const GBCS_VERSION = "4.2";

/** The three DUIS web services, by the last letter of their URL. */
export type WebService = "S" | "D" | "T";

export const WEB_SERVICE_NAME: Record<WebService, string> = {
  S: "Send Command Service",
  D: "Non-Device Service",
  T: "Transform Service",
};
