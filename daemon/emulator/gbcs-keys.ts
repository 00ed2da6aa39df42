import type { KeyObject } from "node:crypto";
import { join } from "node:path";
import { KeyStore, type KeyStoreEntry } from "../gbcs/index.ts";
import type { DeviceCredentialStore } from "../../provisioning/devices/index.ts";
import type { Eui } from "../duis/eui.ts";
import { DCC_EUI } from "../duis/constants.ts";

/** Name of the access control broker's key-agreement entry in the organisation key store. */
const ACB_KEY_AGREEMENT = "Z1-accessControlBroker-ka";

/**
 * The keys the emulated DCC and devices use for GBCS: the organisations'
 * (from the ZAZ1 `keystore.json`) and each device's own (from its
 * provisioned credentials).
 */
export class GbcsKeys {
  constructor(
    private readonly organisations: KeyStore,
    private readonly devices: DeviceCredentialStore,
  ) {}

  static load(trustFolder: string, devices: DeviceCredentialStore): GbcsKeys {
    return new GbcsKeys(KeyStore.load(join(trustFolder, "keystore.json")), devices);
  }

  /** Returns the access control broker's KA private key, with which the DCC MACs every command. */
  acbKaPrivateKey(): KeyObject {
    return this.organisations.privateKey({ eui: DCC_EUI, usage: "keyAgreement", name: ACB_KEY_AGREEMENT });
  }

  /**
   * The KA public key devices use for a remote party: its `Z1-` key, not the
   * Z1b or prepayment (PP) ones, as DCC Boxed devices trust them.
   */
  remotePartyKaPublicKey(eui: Eui): KeyObject {
    const entry = this.remotePartyEntry(eui, "keyAgreement");
    return this.organisations.publicKey({ eui, usage: "keyAgreement", serial: entry.serial });
  }

  /** The DS public key of a remote party's `Z1-` certificate, which signs its pre-commands. */
  remotePartyDsPublicKey(eui: Eui): KeyObject {
    const entry = this.remotePartyEntry(eui, "digitalSignature");
    return this.organisations.publicKey({ eui, usage: "digitalSignature", serial: entry.serial });
  }

  /** Returns true when the organisation key store has a `Z1-` key-agreement key for `eui`. */
  hasRemoteParty(eui: Eui): boolean {
    return this.candidates(eui, "keyAgreement").length > 0;
  }

  deviceKa(eui: Eui): { privateKey: KeyObject; publicKey: KeyObject } | undefined {
    return this.devices.byEui(eui)?.ka;
  }

  deviceDs(eui: Eui): { privateKey: KeyObject; publicKey: KeyObject } | undefined {
    return this.devices.byEui(eui)?.ds;
  }

  private candidates(eui: Eui, usage: "keyAgreement" | "digitalSignature"): KeyStoreEntry[] {
    return this.organisations
      .entries()
      .filter((entry) => entry.eui.toUpperCase() === eui && entry.usage === usage)
      .filter((entry) => entry.name === undefined || (entry.name.startsWith("Z1-") && !/PP-/.test(entry.name)) || entry.name.startsWith("otherUser-"));
  }

  private remotePartyEntry(eui: Eui, usage: "keyAgreement" | "digitalSignature"): KeyStoreEntry {
    const [entry] = this.candidates(eui, usage);
    if (!entry) throw new Error(`no Z1 ${usage} key for remote party ${eui} in the organisation key store`);
    return entry;
  }
}
