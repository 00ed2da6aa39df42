/**
 * The device certificate profile as DCC Boxed issues it, and the settings of
 * the credential store. Object identifiers are in dotted form.
 */

/** ecdsa-with-SHA256 (RFC 5758 3.2), the only signature algorithm GBCS allows. */
export const OID_ECDSA_WITH_SHA256 = "1.2.840.10045.4.3.2";
/** id-ecPublicKey (RFC 5480). */
export const OID_EC_PUBLIC_KEY = "1.2.840.10045.2.1";
/** prime256v1 / secp256r1, the GBCS curve. */
export const OID_PRIME256V1 = "1.2.840.10045.3.1.7";

export const OID_KEY_USAGE = "2.5.29.15";
export const OID_SUBJECT_KEY_IDENTIFIER = "2.5.29.14";
export const OID_SUBJECT_ALT_NAME = "2.5.29.17";
export const OID_CERTIFICATE_POLICIES = "2.5.29.32";
export const OID_AUTHORITY_KEY_IDENTIFIER = "2.5.29.35";

/** id-on-hardwareModuleName (RFC 4108 5): the otherName that carries the device EUI. */
export const OID_HARDWARE_MODULE_NAME = "1.3.6.1.5.5.7.8.4";
/** hwType that DCC Boxed writes into the hardwareModuleName of its device certificates. */
export const DEVICE_HW_TYPE = "1.2.826.0.1372.1.1.2.1";
/** Certificate policy of DCC Boxed device certificates, the same as the ZAZ1 organisation certificates. */
export const DEVICE_CERTIFICATE_POLICY = "1.2.826.0.1.8641679.1.2.1.4";

/** keyUsage bit numbers (RFC 5280 4.2.1.3). */
export const KEY_USAGE_DIGITAL_SIGNATURE_BIT = 0;
export const KEY_USAGE_KEY_AGREEMENT_BIT = 4;

/** notAfter of every device certificate: GBCS device certificates never expire. */
export const DEVICE_CERTIFICATE_NOT_AFTER = new Date(Date.UTC(9999, 11, 31, 23, 59, 59));

/**
 * Length of a random certificate serial in octets. 16 octets (127 random bits,
 * top bit cleared so the INTEGER stays positive in 16 octets) matches the
 * ZAZ1 serials and stays inside the 20-octet limit of RFC 5280 4.1.2.2.
 */
export const SERIAL_LENGTH_OCTETS = 16;

/** Name of the access control broker DS entry in keystore.json, whose key signs device certificates. */
export const ISSUER_KEYSTORE_NAME = "Z1-accessControlBroker-ds";

/** The RTDS ESME, whose key-agreement pair comes from the RTDS test keystore. */
export const RTDS_ESME_EUI = "00db1234567890a0";

/** Mode of the per-device state files, which contain private keys. */
export const CREDENTIAL_FILE_MODE = 0o600;

/** Maximum size of one per-device state file in bytes; a real one is about 1.5 KiB. */
export const MAX_CREDENTIAL_FILE_BYTES = 64 * 1024;
