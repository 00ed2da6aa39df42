import type { KeyObject } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fromHex, KeyStore, loadPrivateKey, loadPublicKey } from "../../daemon/gbcs/index.ts";
import { setLogLevel } from "../../daemon/log.ts";

setLogLevel("silent");

/** RTDS 4.5.0 GBCS vectors: one folder per use case, one upper-case hex message per file. */
export const RTDS_DIR = join(import.meta.dir, "../vectors/gbcs/rtds-4.5.0");

/** Device certificates of the RTDS vectors, and the one public device private key (ESME A0 KA). */
export const DEVICE_KEY_DIR = join(import.meta.dir, "../vectors/gbcs/keystore");

export const ORG_KEYSTORE_PATH = join(import.meta.dir, "../../provisioning/trust/zaz1/keystore.json");

export const SUPPLIER = "90B3D51F30010000";
export const ACB = "90B3D51F30000002";
export const ESME_A0 = "00DB1234567890A0";

export function readVector(relativePath: string, root = RTDS_DIR): Uint8Array {
  return fromHex(readFileSync(join(root, relativePath), "utf8").trim());
}

let orgStore: KeyStore | undefined;

/** Returns the ZAZ1 organisation key store, loaded once per test process. */
export function orgKeys(): KeyStore {
  orgStore ??= KeyStore.load(ORG_KEYSTORE_PATH);
  return orgStore;
}

/** Public key of a device certificate, `usage` `ds` or `ka`; undefined when the folder has no certificate. */
export function devicePublicKey(eui: string, usage: "ds" | "ka", dir = DEVICE_KEY_DIR): KeyObject | undefined {
  const path = join(dir, `${eui.toLowerCase()}-${usage}.pem`);
  return existsSync(path) ? loadPublicKey(readFileSync(path)) : undefined;
}

/** Private key of a device, present only for the ESME A0 KA key among the RTDS devices. */
export function devicePrivateKey(eui: string, usage: "ds" | "ka", dir = DEVICE_KEY_DIR): KeyObject | undefined {
  const path = join(dir, `${eui.toLowerCase()}-${usage}.key`);
  return existsSync(path) ? loadPrivateKey(readFileSync(path)) : undefined;
}

export const acbKa = () => orgKeys().privateKey({ eui: ACB, usage: "keyAgreement", name: "Z1-accessControlBroker-ka" });
export const supplierKa = () => orgKeys().privateKey({ eui: SUPPLIER, usage: "keyAgreement", name: "Z1-supplier-ka" });
export const a0KaPrivate = () => devicePrivateKey(ESME_A0, "ka")!;
export const a0KaPublic = () => devicePublicKey(ESME_A0, "ka")!;

/** Returns the error `action` raises, or fails the test when it raises nothing. */
export function caught(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error("expected the action to raise an error, it returned normally");
}
