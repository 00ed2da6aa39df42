import type { Logger } from "../daemon/log.ts";

/** Context passed by the factory command to the device-credentials hook. */
export type DeviceCredentialsContext = {
  /** Protected state directory of the box. */
  stateDir: string;
  /** Folder inside `stateDir` reserved for the emulated devices' credentials. */
  credentialsDir: string;
  deviceId: string;
  log: Logger;
};

/**
 * Step of the factory command that creates the emulated meters' credentials
 * (GBCS key pairs and certificates). It runs after the identity and anchors
 * are written and before the provisioning record, so a failing hook leaves
 * the box unprovisioned and the command can simply be run again.
 */
export type DeviceCredentialsHook = (context: DeviceCredentialsContext) => void | Promise<void>;
