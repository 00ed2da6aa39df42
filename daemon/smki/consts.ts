/**
 * Constants and settings of the SMKI repository interface, as the DCC Boxed
 * client `@smartdcc/dccboxed-keystore` 0.4.2 calls it.
 */

/** Port of the SMKI interface on DCC Boxed. */
export const SMKI_DEFAULT_PORT = 8083;

export const CERTIFICATE_SEARCH_PATH = "/services/certificatesearch";
export const RETRIEVE_CERTIFICATE_PATH = "/services/retrievecertificate";

/**
 * Maximum request body in bytes. A search or retrieve request of the DCC Boxed
 * client is under 200 bytes, so the cap leaves ample room and bounds parser work.
 */
export const SMKI_MAX_REQUEST_BYTES = 4096;

/** Maximum serial length in hex digits: RFC 5280 4.1.2.2 limits serials to 20 octets. */
export const MAX_SERIAL_HEX_DIGITS = 40;

/** Maximum length of a rejected value quoted back in an error message, in characters. */
export const MAX_QUOTED_VALUE_CHARS = 64;

/** HTTP status for "invalid search parameters"; the client raises an error on it. */
export const STATUS_INVALID_PARAMETERS = 401;
/** HTTP status for "not found"; the client returns an empty list or null on it. */
export const STATUS_NOT_FOUND = 402;

/** CertificateUsage values. */
export type CertificateUsageCode = "DS" | "KA";
export const CERTIFICATE_USAGES: readonly CertificateUsageCode[] = ["DS", "KA"];

/** CertificateStatus values: Pending, In use, Not in use, Expired, Revoked. */
export type CertificateStatusCode = "P" | "I" | "N" | "E" | "R";
export const CERTIFICATE_STATUSES: readonly CertificateStatusCode[] = ["P", "I", "N", "E", "R"];

/** Maximum CertificateRole accepted in a search. The known roles run from 0 (Root) to 137 (DSP XML signing). */
export const MAX_CERTIFICATE_ROLE = 255;
