import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeJsonAtomic } from "../state/atomic.ts";
import { parseEui, type Eui } from "../duis/eui.ts";

/** Device types of the DUIS inventory (DUIS Schema 5.4 `DeviceType`). */
export type DeviceType = "ESME" | "GSME" | "GPF" | "CHF" | "HCALCS" | "PPMID" | "IHD" | "CAD";

/** DUIS `DeviceStatus` values. */
export type DeviceStatus =
  | "Pending"
  | "Whitelisted"
  | "InstalledNotCommissioned"
  | "Commissioned"
  | "Decommissioned"
  | "Withdrawn"
  | "Suspended"
  | "Recovery"
  | "Recovered";

/** One emulated device as the DCC's inventory records it. */
export interface DeviceRecord {
  eui: Eui;
  deviceType: DeviceType;
  /** GBCS device role, when the DUIS type is coarser (e.g. APC for an auxiliary proportional controller). */
  role?: string;
  status: DeviceStatus;
  manufacturer: string;
  model: string;
  smetsChtsVersion: string;
  /** Firmware version as the device reports it over GBCS: 4 bytes in hex (ECS52 / GCS? read firmware). */
  firmwareVersion: string;
  gbcsVersion: string;
  /** `yyyy-mm-dd` */
  dateCommissioned: string;
  uprn: string;
  postCode: string;
  addressIdentifier: string;
  cspRegion: string;
  hanVariant: string;
  importMpxn?: string;
}

/** The premises every default device is installed at. */
const DEFAULT_PREMISES = {
  uprn: "123456789012",
  postCode: "1111-111",
  addressIdentifier: "12334",
  cspRegion: "Central",
} as const;

function defaultDevice(eui: string, deviceType: DeviceType, firmwareVersion: string, extra: Partial<DeviceRecord> = {}): DeviceRecord {
  return {
    eui: parseEui(eui),
    deviceType,
    status: "Commissioned",
    manufacturer: deviceType === "CHF" || deviceType === "GPF" ? "106C" : "0000",
    model: deviceType === "CHF" || deviceType === "GPF" ? "433100AC" : "BOXD0001",
    smetsChtsVersion: deviceType === "CHF" || deviceType === "GPF" ? "CHTS V1.4" : "SMETS V5.2",
    firmwareVersion,
    gbcsVersion: "4.2",
    dateCommissioned: "2025-01-01",
    hanVariant: "Single Band",
    ...DEFAULT_PREMISES,
    ...extra,
  };
}

/**
 * Returns the embedded default HAN. It uses the device EUIs of the DUIS
 * templates and the RTDS GBCS vectors, so every template works unchanged.
 * The ESME's firmware version is the one RTDS ECS52 reports (01 23 AB CD).
 */
export function defaultHan(): DeviceRecord[] {
  return [
    defaultDevice("00DB1234567890A0", "ESME", "0123ABCD", { importMpxn: "1100000000001" }),
    defaultDevice("00DB1234567890A1", "GSME", "00020000", { importMpxn: "1234567890" }),
    defaultDevice("00DB1234567890A2", "CHF", "0C230000"),
    defaultDevice("00DB1234567890A3", "GPF", "0C230000"),
    defaultDevice("00DB1234567890A4", "PPMID", "00010000"),
    defaultDevice("00DB1234567890A5", "HCALCS", "00010000"),
    // NOTE: DUIS 5.4 has no device type for an auxiliary proportional controller; it is listed as an HCALCS.
    defaultDevice("00DB1234567890A6", "HCALCS", "00010000", { role: "APC" }),
  ];
}

/** Maximum number of devices a DSPInventory may list (DUIS Schema 5.4). */
export const MAX_INVENTORY_DEVICES = 17;

/**
 * The device inventory of the emulated HAN, kept in `<state>/han/devices.json`
 * and written atomically on every change.
 */
export class Inventory {
  private readonly devices = new Map<Eui, DeviceRecord>();

  private readonly path: string;

  /** @param stateDirectory the state folder; other emulator state is kept beside the inventory. */
  private constructor(readonly stateDirectory: string) {
    this.path = join(stateDirectory, "han", "devices.json");
  }

  /** Loads the inventory from the state directory, creating it from `seed` on first start. */
  static open(stateDirectory: string, seed: () => DeviceRecord[] = defaultHan): Inventory {
    const inventory = new Inventory(stateDirectory);
    const records: DeviceRecord[] = existsSync(inventory.path)
      ? JSON.parse(readFileSync(inventory.path, "utf8"))
      : seed();
    for (const record of records) inventory.devices.set(record.eui, record);
    if (!existsSync(inventory.path)) inventory.save();
    return inventory;
  }

  get(eui: Eui): DeviceRecord | undefined {
    return this.devices.get(eui);
  }

  all(): DeviceRecord[] {
    return [...this.devices.values()];
  }

  /** Devices at the premises of `uprn`, in inventory order. */
  atPremises(uprn: string): DeviceRecord[] {
    return this.all().filter((device) => device.uprn === uprn);
  }

  /** Replaces or adds a record and persists the inventory before returning. */
  put(record: DeviceRecord): void {
    this.devices.set(record.eui, record);
    this.save();
  }

  private save(): void {
    writeJsonAtomic(this.path, this.all());
  }
}
