/** Device credentials: per-device GBCS key pairs and the certificates DCC Boxed would issue for them. */
export { buildDeviceCertificate, keyIdentifierOf, readCertificateFields } from "./certificate.ts";
export type { CertificateFields, CertificateIssuer, DeviceCertificateRequest, KeyUsageName } from "./certificate.ts";
export { DeviceListError, StoredCredentialsError, TrustMaterialError } from "./errors.ts";
export { formatEuiHyphenated, parseEui } from "./eui.ts";
export type { Eui } from "./eui.ts";
export { formatSerialHex } from "./state-file.ts";
export { DeviceCredentialStore, loadOrCreateDeviceCredentials, statePath } from "./store.ts";
export type { DeviceCredentials, DeviceKeyPair, DeviceSpec, LoadDeviceCredentialsOptions, SerialMatch } from "./store.ts";
export { DEFAULT_TRUST_DIR, loadTrustMaterial } from "./trust.ts";
export type { OrganisationCertificate, TrustMaterial, TrustedKeyPair } from "./trust.ts";
