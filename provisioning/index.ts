/**
 * Factory provisioning: public API for the daemon. At boot it calls
 * `loadProvisioning(stateDir)`. It checks admin tokens with
 * `verifyAdminToken` and Zigbee sticks with `isStickAllowed`.
 */
export { formatStickEntry, isStickAllowed, parseStickEntry, readAllowlistFile } from "./allowlist.ts";
export type { StickAllowlistEntry, StickIdentity } from "./allowlist.ts";
export * from "./constants.ts";
export { generateAdminToken, hashAdminToken, verifyAdminToken, type AdminCredential } from "./credentials.ts";
export * from "./errors.ts";
export type { DeviceCredentialsContext, DeviceCredentialsHook } from "./hooks.ts";
export { loadProvisioning, type Provisioning, type TrustAnchors } from "./load.ts";
export { provisionDevice, type FactoryOptions, type FactoryResult } from "./provision.ts";
export type { ProvisioningMode } from "./record.ts";
