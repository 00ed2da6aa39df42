import type { KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { logger } from "../../log.ts";
import { KeyStoreError } from "../errors.ts";
import { type Eui64, parseEui64 } from "../eui.ts";
import { loadPrivateKey, publicKeyFromCertificate } from "./pem.ts";

const log = logger("gbcs.keystore");

export type KeyUsage = "digitalSignature" | "keyAgreement";

/** One certificate of a key store, with its private key when the store has it. */
export interface KeyStoreEntry {
  eui: Eui64;
  usage: KeyUsage;
  /** Certificate serial number in decimal, as the key store file keys it. */
  serial: string;
  /** PEM certificate. */
  certificate: string;
  /** PEM PKCS#8 private key. */
  privateKey?: string;
  /** Remote party role code (for example 2 supplier, 4 access control broker). */
  role?: number;
  /** Entry name, for example `Z1-supplier-ka`. */
  name?: string;
}

/** Lookup of one entry; `name` or `serial` picks one when an EUI has several keys of one usage. */
export interface KeyQuery {
  eui: Eui64 | string;
  usage: KeyUsage;
  name?: string;
  serial?: string;
}

const USAGES: readonly KeyUsage[] = ["digitalSignature", "keyAgreement"];

/**
 * The GBCS certificates and keys of a `keystore.json` file, shaped
 * `{eui: {digitalSignature|keyAgreement: {serial: {certificate, privateKey?, role?, name?}}}}`.
 */
export class KeyStore {
  private constructor(
    readonly source: string,
    private readonly all: readonly KeyStoreEntry[],
  ) {}

  /** Reads and parses a key store file. */
  static load(path: string): KeyStore {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (error) {
      throw new KeyStoreError(path, `cannot be read (${(error as Error).message})`);
    }

    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new KeyStoreError(path, `is not valid JSON (${(error as Error).message})`);
    }

    const store = KeyStore.fromJson(json, path);
    log.info({ source: path, entries: store.all.length }, "loaded key store");
    return store;
  }

  /** Builds a key store from parsed JSON; `source` names it in errors. */
  static fromJson(json: unknown, source = "keystore.json"): KeyStore {
    if (!isRecord(json)) throw new KeyStoreError(source, "top level must be an object keyed by EUI");

    const entries: KeyStoreEntry[] = [];
    for (const [euiText, usages] of Object.entries(json)) {
      if (!/^[0-9a-fA-F]{16}$/.test(euiText)) {
        throw new KeyStoreError(source, `key "${euiText}" is not an EUI-64 of 16 hex digits`);
      }
      const eui = parseEui64(euiText);
      if (!isRecord(usages)) throw new KeyStoreError(source, `entry ${euiText} must be an object`);

      for (const [usage, serials] of Object.entries(usages)) {
        if (!USAGES.includes(usage as KeyUsage)) {
          throw new KeyStoreError(source, `entry ${euiText} has usage "${usage}", expected digitalSignature or keyAgreement`);
        }
        if (!isRecord(serials)) throw new KeyStoreError(source, `entry ${euiText}.${usage} must be an object`);

        for (const [serial, value] of Object.entries(serials)) {
          entries.push(parseEntry(source, eui, usage as KeyUsage, serial, value));
        }
      }
    }
    return new KeyStore(source, entries);
  }

  entries(): readonly KeyStoreEntry[] {
    return this.all;
  }

  /** Returns the one entry that matches; raises {@link KeyStoreError} when none or several match. */
  find(query: KeyQuery): KeyStoreEntry {
    const eui = parseEui64(query.eui, "eui");
    const matches = this.all.filter(
      (entry) =>
        entry.eui === eui &&
        entry.usage === query.usage &&
        (query.name === undefined || entry.name === query.name) &&
        (query.serial === undefined || entry.serial === query.serial),
    );

    const requested = `${eui} ${query.usage}${query.name ? ` name ${query.name}` : ""}${query.serial ? ` serial ${query.serial}` : ""}`;
    if (matches.length === 0) throw new KeyStoreError(this.source, `has no entry for ${requested}`);
    if (matches.length > 1) {
      const names = matches.map((entry) => entry.name ?? entry.serial).join(", ");
      throw new KeyStoreError(this.source, `has ${matches.length} entries for ${requested} (${names}): pass name or serial`);
    }
    return matches[0]!;
  }

  /** Returns the private key of the matching entry. */
  privateKey(query: KeyQuery): KeyObject {
    const entry = this.find(query);
    if (entry.privateKey === undefined) {
      throw new KeyStoreError(this.source, `entry ${entry.name ?? entry.serial} of ${entry.eui} has no private key`);
    }
    return loadPrivateKey(entry.privateKey);
  }

  /** Returns the certificate public key of the matching entry. */
  publicKey(query: KeyQuery): KeyObject {
    return publicKeyFromCertificate(this.find(query).certificate);
  }
}

function parseEntry(source: string, eui: Eui64, usage: KeyUsage, serial: string, value: unknown): KeyStoreEntry {
  const where = `entry ${eui}.${usage}.${serial}`;
  if (!isRecord(value) || typeof value.certificate !== "string") {
    throw new KeyStoreError(source, `${where} needs a certificate string`);
  }

  const entry: KeyStoreEntry = { eui, usage, serial, certificate: value.certificate };
  if (typeof value.privateKey === "string") entry.privateKey = value.privateKey;
  if (typeof value.role === "number") entry.role = value.role;
  if (typeof value.name === "string") entry.name = value.name;
  return entry;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
