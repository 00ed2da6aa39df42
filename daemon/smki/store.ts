import { formatSerialHex, type DeviceCredentialStore, type Eui, type KeyUsageName, type OrganisationCertificate } from "../../provisioning/devices/index.ts";
import type { CertificateStatusCode, CertificateUsageCode } from "./consts.ts";

/** One certificate as the SMKI repository reports it. */
export interface SmkiCertificate {
  /** `device` results carry CertificateSubjectAltName, `organisation` results CertificateSubjectName and CertificateRole. */
  kind: "device" | "organisation";
  serial: bigint;
  /** Upper-case hex of even length, for example `0F4889EF…`. */
  serialHex: string;
  eui: Eui;
  usage: CertificateUsageCode;
  status: CertificateStatusCode;
  /** SMKI remote party role; organisation certificates only. */
  role?: number;
  certificateDer: Uint8Array;
}

/** Read access to the certificates the repository serves. */
export interface SmkiStore {
  /** Returns the in-use DS and KA certificate of a device, or an empty list for an unknown EUI. */
  findDeviceCertificates(eui: Eui): SmkiCertificate[];
  /** Returns every certificate of an organisation in keystore.json, or an empty list. */
  findOrganisationCertificates(eui: Eui): SmkiCertificate[];
  findBySerial(serial: bigint): SmkiCertificate | undefined;
}

const USAGE_CODES: Record<KeyUsageName, CertificateUsageCode> = {
  digitalSignature: "DS",
  keyAgreement: "KA",
};

/**
 * Creates the store over the device credentials and the organisation
 * certificates of keystore.json. Device lookups go to `devices` on every call.
 *
 * NOTE: every certificate reports status I (in use), including ZAZ1 test
 * certificates whose notAfter has passed, because DCC Boxed clients keep only
 * in-use results and the ZAZ1 keys are still the ones DCC Boxed signs with.
 */
export function createSmkiStore(sources: { devices: DeviceCredentialStore; organisations: OrganisationCertificate[] }): SmkiStore {
  const organisationsByEui = new Map<Eui, SmkiCertificate[]>();
  const organisationsBySerial = new Map<bigint, SmkiCertificate>();
  for (const organisation of sources.organisations) {
    const certificate: SmkiCertificate = {
      kind: "organisation",
      serial: organisation.serial,
      serialHex: formatSerialHex(organisation.serial),
      eui: organisation.eui,
      usage: USAGE_CODES[organisation.usage],
      status: "I",
      role: organisation.role,
      certificateDer: organisation.certificateDer,
    };
    organisationsByEui.set(organisation.eui, [...(organisationsByEui.get(organisation.eui) ?? []), certificate]);
    organisationsBySerial.set(organisation.serial, certificate);
  }

  const deviceCertificate = (eui: Eui, usage: KeyUsageName, keyPair: { serial: bigint; serialHex: string; certificateDer: Uint8Array }): SmkiCertificate => ({
    kind: "device",
    serial: keyPair.serial,
    serialHex: keyPair.serialHex,
    eui,
    usage: USAGE_CODES[usage],
    status: "I",
    certificateDer: keyPair.certificateDer,
  });

  return {
    findDeviceCertificates(eui) {
      const device = sources.devices.byEui(eui);
      if (device === undefined) {
        return [];
      }
      return [deviceCertificate(device.eui, "digitalSignature", device.ds), deviceCertificate(device.eui, "keyAgreement", device.ka)];
    },

    findOrganisationCertificates(eui) {
      return organisationsByEui.get(eui) ?? [];
    },

    findBySerial(serial) {
      const match = sources.devices.bySerial(serial);
      if (match !== undefined) {
        return deviceCertificate(match.device.eui, match.usage, match.keyPair);
      }
      return organisationsBySerial.get(serial);
    },
  };
}
