/** The SMKI repository interface of boxd (certificate search and retrieve, port 8083). */
export { createSmkiApp } from "./app.ts";
export type { SmkiAppOptions } from "./app.ts";
export {
  CERTIFICATE_SEARCH_PATH,
  RETRIEVE_CERTIFICATE_PATH,
  SMKI_DEFAULT_PORT,
  SMKI_MAX_REQUEST_BYTES,
} from "./consts.ts";
export type { CertificateStatusCode, CertificateUsageCode } from "./consts.ts";
export { SmkiNotFoundError, SmkiRequestError } from "./errors.ts";
export { createSmkiStore } from "./store.ts";
export type { SmkiCertificate, SmkiStore } from "./store.ts";
