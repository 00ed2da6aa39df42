import type { KeyObject } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  CraFlag,
  checkMac,
  decodeGbzAlertComponents,
  decryptPayload,
  deriveKey,
  encryptionKdfParameters,
  type GbcsPayload,
  type GbzComponent,
  decodeMessage,
  decodePayload,
  type Eui64,
  encodeGeneralCiphering,
  encodeGeneralSigning,
  encodePayload,
  fromHex,
  type GbcsMessage,
  KeyStore,
  loadPrivateKey,
  loadPublicKey,
  parseEui64,
  toHex,
  verifyGeneralSigning,
} from "../../daemon/gbcs/index.ts";

/** The access control broker: the DCC applies the MAC of every command with its KA key. */
export const ACB_EUI = parseEui64("90B3D51F30000002");

export type VectorKind = "COMMAND" | "PRECOMMAND" | "RESPONSE" | "ALERT";

/** One RTDS file: its use-case folder, kind and path. */
export interface VectorFile {
  useCase: string;
  kind: VectorKind;
  name: string;
  path: string;
}

/** Outcome of one crypto check: passed, failed, or skipped with the reason no key allowed it. */
export type CheckOutcome =
  | { status: "verified"; deviceSide?: boolean }
  | { status: "failed"; detail: string }
  | { status: "unchecked"; reason: string };

export interface ConformanceResult {
  file: VectorFile;
  decoded: boolean;
  reencoded: boolean;
  error?: string;
  mac?: CheckOutcome;
  signature?: CheckOutcome;
  /** Decryption of every encrypted payload (DLMS protected attributes, encrypted GBZ components). */
  decryption?: CheckOutcome;
}

/** Lists the RTDS files below `root`: `<SRV>_<use case>/<name>_<KIND>_GBCS.HEX` (alerts may add a suffix). */
export function listVectors(root: string): VectorFile[] {
  const files: VectorFile[] = [];
  for (const folder of readdirSync(root).sort()) {
    const folderPath = join(root, folder);
    if (!existsSync(folderPath) || !folder.includes("_")) continue;

    const useCase = folder.slice(folder.indexOf("_") + 1);
    for (const name of readdirSync(folderPath).sort()) {
      const kind = /_(PRECOMMAND|COMMAND|RESPONSE|ALERT)_/.exec(name)?.[1] as VectorKind | undefined;
      if (kind === undefined || !name.endsWith(".HEX")) continue;
      files.push({ useCase, kind, name, path: join(folderPath, name) });
    }
  }
  return files;
}

/** Public and private keys by EUI, from a device certificate folder and an organisation `keystore.json`. */
export class KeyRing {
  private readonly store: KeyStore;

  constructor(
    private readonly deviceDir: string,
    keystorePath: string,
  ) {
    this.store = KeyStore.load(keystorePath);
  }

  /** KA private keys of `eui` with a label each; organisations have several (Z1, Z1b, prepayment). */
  kaPrivateKeys(eui: Eui64): { label: string; key: KeyObject }[] {
    const fromStore = this.store
      .entries()
      .filter((entry) => entry.eui === eui && entry.usage === "keyAgreement" && entry.privateKey !== undefined)
      .map((entry) => ({ label: entry.name ?? entry.serial, key: loadPrivateKey(entry.privateKey!) }));
    return [...fromStore, ...this.fromDir(eui, "ka.key", loadPrivateKey)];
  }

  kaPublicKeys(eui: Eui64): { label: string; key: KeyObject }[] {
    return [...this.storePublic(eui, "keyAgreement"), ...this.fromDir(eui, "ka.pem", loadPublicKey)];
  }

  /**
   * Returns whether `eui` is a device: it has a KA certificate in the device folder and no entry in the
   * organisation key store (the RTDS folder also contains organisation certificates).
   */
  isDevice(eui: Eui64): boolean {
    const isOrganisation = this.store.entries().some((entry) => entry.eui === eui);
    return !isOrganisation && existsSync(join(this.deviceDir, `${eui.toLowerCase()}-ka.pem`));
  }

  dsPublicKeys(eui: Eui64): { label: string; key: KeyObject }[] {
    return [...this.storePublic(eui, "digitalSignature"), ...this.fromDir(eui, "ds.pem", loadPublicKey)];
  }

  private storePublic(eui: Eui64, usage: "keyAgreement" | "digitalSignature") {
    return this.store
      .entries()
      .filter((entry) => entry.eui === eui && entry.usage === usage)
      .map((entry) => ({ label: entry.name ?? entry.serial, key: loadPublicKey(entry.certificate) }));
  }

  private fromDir(eui: Eui64, suffix: string, load: (data: Uint8Array) => KeyObject) {
    const path = join(this.deviceDir, `${eui.toLowerCase()}-${suffix}`);
    return existsSync(path) ? [{ label: `${eui.toLowerCase()}-${suffix}`, key: load(readFileSync(path)) }] : [];
  }
}

/** Decodes, re-encodes and checks the MAC and signature of one RTDS file. */
export function checkVector(file: VectorFile, keys: KeyRing): ConformanceResult {
  const bytes = fromHex(readFileSync(file.path, "utf8").trim());
  const result: ConformanceResult = { file, decoded: false, reencoded: false };

  let message: GbcsMessage;
  let payload: GbcsPayload;
  let content: Uint8Array;
  try {
    message = decodeMessage(bytes);
    payload = decodePayload(message.apdu, message.contentOffset);
    content = encodePayload(payload);
    result.decoded = true;
  } catch (error) {
    result.error = (error as Error).message;
    return result;
  }

  result.reencoded = toHex(reencode(message, content)) === toHex(bytes);

  if (message.mac !== undefined) result.mac = checkMessageMac(message, keys);
  if (message.apdu.signature.form === "ecdsa") result.signature = checkSignature(message, keys);

  const encrypted = encryptedPayloads(payload);
  if (encrypted.length > 0) result.decryption = checkDecryption(message, encrypted, keys);
  return result;
}

/**
 * Returns the encrypted parts of a payload: the protected_attributes octet-string of a DLMS protected read,
 * and the protected payload of each encrypted GBZ component, including those inside a GBZ alert.
 */
function encryptedPayloads(payload: GbcsPayload): Uint8Array[] {
  if (payload.kind === "dlms") {
    const result = payload.apdu.apdu === "access-response" ? payload.apdu.data[0] : undefined;
    const candidate = result?.type === "structure" && result.items.length === 2 ? result.items[1] : undefined;
    const isProtected = candidate?.type === "octet-string" && toHex(candidate.value.subarray(0, 5)) === "3100000000";
    return isProtected ? [candidate.value] : [];
  }

  if (payload.kind === "gbz") {
    let components: GbzComponent[];
    if (payload.gbz.form === "components") {
      components = payload.gbz.components;
    } else {
      try {
        components = decodeGbzAlertComponents(payload.gbz);
      } catch {
        components = []; // Alert data that is not a run of components (MIIWA) carries nothing encrypted.
      }
    }
    return components.flatMap((component) => (component.encrypted ? [component.protectedPayload] : []));
  }

  return [];
}

/**
 * Decrypts each encrypted part with the KA keys of the device (the originator) and of the party it is
 * encrypted for: the supplementary remote party when named, else the recipient.
 */
function checkDecryption(message: GbcsMessage, encrypted: Uint8Array[], keys: KeyRing): CheckOutcome {
  const { apdu } = message;
  const parameters = encryptionKdfParameters(apdu);
  const remoteParty = parameters.recipient;

  const pairs = [
    ...keys.kaPrivateKeys(remoteParty).flatMap((own) => keys.kaPublicKeys(apdu.originator).map((peer) => ({ own, peer }))),
    ...keys.kaPrivateKeys(apdu.originator).flatMap((own) => keys.kaPublicKeys(remoteParty).map((peer) => ({ own, peer }))),
  ];
  if (pairs.length === 0) {
    return { status: "unchecked", reason: `no KA private key of ${remoteParty} or ${apdu.originator} for decryption` };
  }

  for (const { own, peer } of pairs) {
    const key = deriveKey({ privateKey: own.key, publicKey: peer.key }, parameters);
    try {
      for (const part of encrypted) decryptPayload(key, apdu.originator, part);
      return { status: "verified" };
    } catch {
      // The next key pair may be the one the device used; the outcome below covers all of them.
    }
  }
  return { status: "failed", detail: `no key pair of ${remoteParty} and ${apdu.originator} decrypts the payload` };
}

/** Rebuilds the whole message from its decoded parts, the payload re-encoded from its tree. */
function reencode(message: GbcsMessage, content: Uint8Array): Uint8Array {
  const apdu = encodeGeneralSigning({ ...message.apdu, content });
  return message.mac === undefined ? apdu : encodeGeneralCiphering({ apdu, mac: message.mac });
}

/**
 * Checks the MAC between the remote party and the device: for commands the ACB and the recipient, for
 * responses and alerts the recipient and the originating device. A command that a device originates (the
 * HAN-only PCS commands of a PPMID) is MACed between the two devices. Either side's private key suffices.
 */
function checkMessageMac(message: GbcsMessage, keys: KeyRing): CheckOutcome {
  const { apdu } = message;
  const isCommand = apdu.cra === CraFlag.command;
  let remoteParty = apdu.recipient;
  if (isCommand) remoteParty = keys.isDevice(apdu.originator) ? apdu.originator : ACB_EUI;
  const device = isCommand ? apdu.recipient : apdu.originator;

  const remoteSide = keys.kaPrivateKeys(remoteParty).flatMap((own) => keys.kaPublicKeys(device).map((peer) => ({ own, peer })));
  const deviceSide = keys.kaPrivateKeys(device).flatMap((own) => keys.kaPublicKeys(remoteParty).map((peer) => ({ own, peer })));
  if (remoteSide.length + deviceSide.length === 0) {
    return {
      status: "unchecked",
      reason: `no KA private key of ${remoteParty} with a KA certificate of ${device}, or the reverse`,
    };
  }

  const matches = (pair: { own: { key: KeyObject }; peer: { key: KeyObject } }) =>
    checkMac(message, { privateKey: pair.own.key, publicKey: pair.peer.key });
  const byDevice = deviceSide.some(matches);
  if (byDevice || remoteSide.some(matches)) return { status: "verified", deviceSide: byDevice };

  const count = remoteSide.length + deviceSide.length;
  return { status: "failed", detail: `MAC matches none of ${count} key pairs of ${remoteParty} and ${device}` };
}

function checkSignature(message: GbcsMessage, keys: KeyRing): CheckOutcome {
  const originator = message.apdu.originator;
  const candidates = keys.dsPublicKeys(originator);
  if (candidates.length === 0) return { status: "unchecked", reason: `no DS certificate of ${originator}` };

  for (const candidate of candidates) {
    try {
      verifyGeneralSigning(message, candidate.key);
      return { status: "verified" };
    } catch {
      // Another DS certificate of the same originator may match; the outcome below covers all of them.
    }
  }
  return { status: "failed", detail: `signature matches none of ${candidates.length} DS certificates of ${originator}` };
}
