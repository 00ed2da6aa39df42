import { ResponseCode } from "../duis/codes.ts";
import { formatEui, isEui, parseEui } from "../duis/eui.ts";
import type { ServiceOutcome } from "../duis/gateway.ts";
import type { DuisRequest } from "../duis/request.ts";
import { element, group } from "../duis/response.ts";
import { MAX_INVENTORY_DEVICES, type DeviceRecord, type Inventory } from "./han.ts";

/**
 * SRV 8.2 Read Inventory (CV 8, non-device): the DCC responds synchronously
 * with I0 and a DSPInventory of the devices that match the search.
 *
 * - By DeviceID: every device at the premises of that device, as DCC Boxed
 *   lists the whole HAN for a query on one of its devices.
 * - By UPRN, MPxN or PropertyFilter: the devices at the matching premises.
 *
 * No match answers the SRV 8.2 specific code E080201.
 */

export function readInventory(request: DuisRequest, inventory: Inventory): ServiceOutcome {
  const fields = request.bodyFields;
  let matches: DeviceRecord[] = [];
  let search: string;

  const deviceId = fields.get("DeviceID");
  const uprn = fields.get("UPRN");
  const mpxn = fields.get("MPxN");
  if (deviceId !== undefined) {
    search = `DeviceID ${deviceId}`;
    const device = isEui(deviceId) ? inventory.get(parseEui(deviceId)) : undefined;
    matches = device ? inventory.atPremises(device.uprn) : [];
  } else if (uprn !== undefined) {
    search = `UPRN ${uprn}`;
    matches = inventory.atPremises(uprn);
  } else if (mpxn !== undefined) {
    search = `MPxN ${mpxn}`;
    const meter = inventory.all().find((device) => device.importMpxn === mpxn);
    matches = meter ? inventory.atPremises(meter.uprn) : [];
  } else {
    const postCode = fields.get("PropertyFilter/PostCode");
    const address = fields.get("PropertyFilter/AddressIdentifier");
    search = `PropertyFilter ${postCode} ${address}`;
    matches = inventory.all().filter((device) => device.postCode === postCode && device.addressIdentifier === address);
  }

  if (matches.length === 0) {
    return { code: ResponseCode.noInventoryMatch, reason: `no device matches ${search}` };
  }
  return {
    code: ResponseCode.success,
    payload: group("DSPInventory", matches.slice(0, MAX_INVENTORY_DEVICES).map(cachedInventoryDevice).join("")),
  };
}

/** Device XML by record; the inventory replaces a record object whenever the device changes. */
const deviceXml = new WeakMap<DeviceRecord, string>();

function cachedInventoryDevice(device: DeviceRecord): string {
  let xml = deviceXml.get(device);
  if (xml === undefined) {
    xml = inventoryDevice(device);
    deviceXml.set(device, xml);
  }
  return xml;
}

/**
 * Writes one `sr:Device` of a DSPInventory, in schema order. It stays valid against
 * DUIS 5.1 too, which the signing tool of DCC Boxed clients still checks
 * responses with: CSPRegion without the 4G names and no Connectivity.
 */
function inventoryDevice(device: DeviceRecord): string {
  const hub = device.deviceType === "CHF" || device.deviceType === "GPF";
  return group(
    "Device",
    element("DeviceID", formatEui(device.eui)) +
      element("DeviceType", device.deviceType) +
      element("DeviceStatus", device.status) +
      element("DeviceManufacturer", device.manufacturer) +
      element("DeviceModel", device.model) +
      element("SMETSCHTSVersion", device.smetsChtsVersion) +
      element("DeviceFirmwareVersion", device.firmwareVersion) +
      element("DeviceFirmwareVersionStatus", "Active") +
      element("CPLStatus", "Active") +
      element("DateCommissioned", device.dateCommissioned) +
      (device.importMpxn ? element("ImportMPxN", device.importMpxn) : "") +
      element("UPRN", device.uprn) +
      group("PropertyFilter", element("PostCode", device.postCode) + element("AddressIdentifier", device.addressIdentifier)) +
      element("CSPRegion", device.cspRegion) +
      element("DeviceGBCSVersion", device.gbcsVersion) +
      (hub ? element("HANVariant", device.hanVariant) : ""),
  );
}
