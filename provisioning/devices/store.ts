import { X509Certificate, generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";

import { writeFileAtomic } from "../../daemon/state/atomic.ts";
import { logger, type Logger } from "../../daemon/log.ts";
import { buildDeviceCertificate, type KeyUsageName } from "./certificate.ts";
import { CREDENTIAL_FILE_MODE, RTDS_ESME_EUI, SERIAL_LENGTH_OCTETS } from "./consts.ts";
import { DeviceListError, StoredCredentialsError } from "./errors.ts";
import { parseEui, type Eui } from "./eui.ts";
import { encodeStateFile, makeKeyPair, readStateFile, type DeviceKeyPair } from "./state-file.ts";
import type { TrustMaterial } from "./trust.ts";

export type { DeviceKeyPair } from "./state-file.ts";

/** A device to provision, as the emulator's inventory lists it. */
export interface DeviceSpec {
  /** EUI-64 as 16 hex digits, hyphenated pairs allowed, either case. */
  eui: string;
  /** DUIS device type, for example `ESME`, `GSME`, `CHF`, `GPF`, `PPMID`, `HCALCS` or `IHD`. */
  deviceType: string;
}

/** The digital-signature and key-agreement credentials of one device. */
export interface DeviceCredentials {
  eui: Eui;
  deviceType: string;
  ds: DeviceKeyPair;
  ka: DeviceKeyPair;
}

/** The result of a lookup by certificate serial. */
export interface SerialMatch {
  device: DeviceCredentials;
  usage: KeyUsageName;
  keyPair: DeviceKeyPair;
}

export interface LoadDeviceCredentialsOptions {
  /** Clock for the notBefore of newly minted certificates. The default is the system clock. */
  now?: () => Date;
  log?: Logger;
}

/** In-memory index of the loaded device credentials, by EUI and by certificate serial. */
export class DeviceCredentialStore {
  readonly #byEui = new Map<Eui, DeviceCredentials>();
  readonly #bySerial = new Map<bigint, SerialMatch>();

  constructor(devices: DeviceCredentials[]) {
    for (const device of devices) {
      this.#byEui.set(device.eui, device);
      this.#bySerial.set(device.ds.serial, { device, usage: "digitalSignature", keyPair: device.ds });
      this.#bySerial.set(device.ka.serial, { device, usage: "keyAgreement", keyPair: device.ka });
    }
  }

  /** Returns the device with this EUI (any accepted spelling), or undefined. */
  byEui(eui: string): DeviceCredentials | undefined {
    const parsed = parseEui(eui);
    return parsed === undefined ? undefined : this.#byEui.get(parsed);
  }

  /** Returns the device certificate with this serial, or undefined. */
  bySerial(serial: bigint): SerialMatch | undefined {
    return this.#bySerial.get(serial);
  }

  list(): DeviceCredentials[] {
    return [...this.#byEui.values()];
  }
}

/**
 * Loads the credentials of every device from `stateDir`, and mints and stores
 * them first for devices that have none yet. Each device has one file,
 * `<stateDir>/<eui>.json` (mode 0600, written atomically before this returns),
 * so keys stay the same across restarts. The RTDS ESME 00DB1234567890A0
 * takes its key-agreement pair from the RTDS trust files, so RTDS vectors
 * decrypt; all other keys are fresh P-256 pairs.
 *
 * Raises DeviceListError for a bad device list, and StoredCredentialsError
 * when a stored file is invalid; such a file is never overwritten.
 */
export function loadOrCreateDeviceCredentials(
  stateDir: string,
  devices: DeviceSpec[],
  trust: TrustMaterial,
  options: LoadDeviceCredentialsOptions = {},
): DeviceCredentialStore {
  const log = options.log ?? logger("provisioning.devices");
  const now = options.now ?? (() => new Date());
  const specs = validateDeviceList(devices, trust);

  const isTrustedIssuer = (certificate: X509Certificate, usage: KeyUsageName, eui: Eui): boolean => {
    if (eui === RTDS_ESME_EUI && usage === "keyAgreement") {
      return Buffer.from(certificate.raw).equals(Buffer.from(trust.rtdsEsmeKeyAgreement.certificateDer));
    }
    return certificate.verify(trust.issuer.certificate.publicKey);
  };

  const takenSerials = new Set(trust.organisations.map((organisation) => organisation.serial));
  const loaded: DeviceCredentials[] = [];
  const pending: DeviceSpec[] = [];
  for (const spec of specs) {
    const eui = spec.eui as Eui;
    const path = statePath(stateDir, eui);
    if (!existsSync(path)) {
      pending.push(spec);
      continue;
    }

    const { ds, ka } = readStateFile(path, eui, (certificate, usage) => isTrustedIssuer(certificate, usage, eui));
    for (const pair of [ds, ka]) {
      if (takenSerials.has(pair.serial)) {
        throw new StoredCredentialsError(path, eui, `certificate serial ${pair.serialHex} is also used by another loaded certificate`);
      }
      takenSerials.add(pair.serial);
    }
    loaded.push({ eui, deviceType: spec.deviceType, ds, ka });
  }

  const created: DeviceCredentials[] = [];
  for (const spec of pending) {
    const device = mintDevice(spec.eui as Eui, spec.deviceType, trust, takenSerials, now());
    writeFileAtomic(statePath(stateDir, device.eui), encodeStateFile(device.eui, device.ds, device.ka), CREDENTIAL_FILE_MODE);
    log.info({ eui: device.eui, deviceType: device.deviceType, dsSerial: device.ds.serialHex, kaSerial: device.ka.serialHex }, "minted device credentials");
    created.push(device);
  }

  log.info({ stateDir, loaded: loaded.length, created: created.length }, "device credentials ready");
  return new DeviceCredentialStore([...loaded, ...created]);
}

/** Returns the path of a device's state file. */
export function statePath(stateDir: string, eui: Eui): string {
  return join(stateDir, `${eui}.json`);
}

function validateDeviceList(devices: DeviceSpec[], trust: TrustMaterial): DeviceSpec[] {
  const organisationEuis = new Set<string>(trust.organisations.map((organisation) => organisation.eui));
  const seen = new Set<string>();

  return devices.map((device) => {
    const eui = parseEui(device.eui);
    if (eui === undefined) {
      throw new DeviceListError(device.eui, "the EUI is not 16 hex digits (hyphenated pairs allowed)");
    }
    if (seen.has(eui)) {
      throw new DeviceListError(device.eui, "the EUI appears twice in the device list");
    }
    if (organisationEuis.has(eui)) {
      throw new DeviceListError(device.eui, "the EUI belongs to an organisation in keystore.json");
    }
    if (typeof device.deviceType !== "string" || device.deviceType.length === 0) {
      throw new DeviceListError(device.eui, "the deviceType is missing");
    }

    seen.add(eui);
    return { eui, deviceType: device.deviceType };
  });
}

/** How far before its minting a device certificate becomes valid, in milliseconds (one day). */
const NOT_BEFORE_BACKDATE_MS = 24 * 60 * 60 * 1000;

function mintDevice(eui: Eui, deviceType: string, trust: TrustMaterial, takenSerials: Set<bigint>, now: Date): DeviceCredentials {
  // Backdated by a day, so a client whose clock is somewhat behind the box's does not see a certificate that is not yet valid.
  const notBefore = new Date(Math.floor((now.getTime() - NOT_BEFORE_BACKDATE_MS) / 1000) * 1000);
  const ds = mintKeyPair(eui, "digitalSignature", trust, takenSerials, notBefore);

  let ka: DeviceKeyPair;
  if (eui === RTDS_ESME_EUI) {
    const rtds = trust.rtdsEsmeKeyAgreement;
    ka = makeKeyPair(rtds.certificateDer, rtds.privateKey);
    if (takenSerials.has(ka.serial)) {
      throw new DeviceListError(eui, `the RTDS key-agreement certificate serial ${ka.serialHex} is already used by another loaded certificate`);
    }
    takenSerials.add(ka.serial);
  } else {
    ka = mintKeyPair(eui, "keyAgreement", trust, takenSerials, notBefore);
  }

  return { eui, deviceType, ds, ka };
}

function mintKeyPair(eui: Eui, usage: KeyUsageName, trust: TrustMaterial, takenSerials: Set<bigint>, notBefore: Date): DeviceKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const serial = randomSerial(takenSerials);

  const certificateDer = buildDeviceCertificate({ eui, usage, publicKey, serial, notBefore, issuer: trust.issuer });
  takenSerials.add(serial);
  return makeKeyPair(certificateDer, privateKey);
}

/** Draws a positive serial of SERIAL_LENGTH_OCTETS octets that no loaded certificate uses. */
function randomSerial(takenSerials: Set<bigint>): bigint {
  for (;;) {
    const octets = randomBytes(SERIAL_LENGTH_OCTETS);
    octets[0] = (octets[0] ?? 0) & 0x7f;
    const serial = BigInt(`0x${octets.toString("hex")}`);
    if (serial > 0n && !takenSerials.has(serial)) {
      return serial;
    }
  }
}
