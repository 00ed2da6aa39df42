/**
 * Switches the admin API changes at run time, persisted in the state folder
 * so a restart keeps them. A stored value overrides the configured default.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../log.ts";
import { writeJsonAtomic } from "../state/atomic.ts";

/** File of the persisted switches inside the state folder. */
export const SWITCHES_FILE = "admin-switches.json";

interface StoredSwitches {
  duisValidateSignatures?: boolean;
}

/** DCC Boxed's "DUIS Signature validation" switch: read per request, written atomically before it is acknowledged. */
export class SignatureValidationSwitch {
  private value: boolean;

  private constructor(
    private readonly path: string,
    initial: boolean,
  ) {
    this.value = initial;
  }

  /** Loads the stored value, or `configured` when none is stored. An unreadable file is logged and ignored. */
  static load(stateDirectory: string, configured: boolean, log: Logger): SignatureValidationSwitch {
    const path = join(stateDirectory, SWITCHES_FILE);
    const stored = readStored(path, log).duisValidateSignatures;
    if (stored !== undefined && stored !== configured) {
      log.warn({ validateSignatures: stored, configured, file: path }, "DUIS signature validation set by the admin API overrides duis.validateSignatures");
    }
    return new SignatureValidationSwitch(path, stored ?? configured);
  }

  get enabled(): boolean {
    return this.value;
  }

  /** Persists `enabled`, then applies it to the next request. */
  set(enabled: boolean): void {
    writeJsonAtomic(this.path, { duisValidateSignatures: enabled } satisfies StoredSwitches);
    this.value = enabled;
  }
}

function readStored(path: string, log: Logger): StoredSwitches {
  if (!existsSync(path)) {
    return {};
  }

  try {
    const value = JSON.parse(readFileSync(path, "utf8")) as StoredSwitches;
    return typeof value.duisValidateSignatures === "boolean" ? value : {};
  } catch (error) {
    log.error({ file: path, err: error }, "admin switches file unreadable; using the configured values");
    return {};
  }
}
