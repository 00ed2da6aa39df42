import { readFileSync } from "node:fs";
import { ProvisioningInputInvalid } from "./errors.ts";

/**
 * One Zigbee stick the box may use: by USB vendor ID, product ID and serial
 * number, or by the radio's EUI-64 (IEEE address).
 */
export type StickAllowlistEntry =
  | { kind: "usb"; vendorId: string; productId: string; serial: string }
  | { kind: "eui64"; eui64: string };

/** A stick seen by the daemon. Fields the driver could not read are left out. */
export type StickIdentity = { vendorId?: string; productId?: string; serial?: string; eui64?: string };

const USB_ID_PATTERN = /^[0-9a-f]{4}$/;
const SERIAL_PATTERN = /^[\x20-\x7e]{1,126}$/;
const EUI64_PATTERN = /^[0-9A-F]{16}$/;

/**
 * Parses one allowlist entry: `usb:VID:PID:SERIAL` with VID and PID as 4 hex
 * digits, or `eui64:XXXXXXXXXXXXXXXX` with 16 hex digits (`-` or `:` between
 * pairs allowed). `option` names the source in the error.
 */
export function parseStickEntry(text: string, option: string): StickAllowlistEntry {
  const trimmed = text.trim();
  const [kind, ...rest] = trimmed.split(":");

  if (kind === "usb" && rest.length >= 3) {
    const vendorId = (rest[0] ?? "").toLowerCase();
    const productId = (rest[1] ?? "").toLowerCase();
    const serial = rest.slice(2).join(":");
    if (!USB_ID_PATTERN.test(vendorId) || !USB_ID_PATTERN.test(productId)) {
      throw new ProvisioningInputInvalid(option, trimmed, "USB vendor and product IDs must be 4 hex digits, as in usb:10c4:ea60:SERIAL");
    }

    if (!SERIAL_PATTERN.test(serial)) {
      throw new ProvisioningInputInvalid(option, trimmed, "the USB serial number must be 1 to 126 printable ASCII characters");
    }

    return { kind: "usb", vendorId, productId, serial };
  }

  if (kind === "eui64" && rest.length >= 1) {
    const eui64 = rest.join("").replace(/-/g, "").toUpperCase();
    if (!EUI64_PATTERN.test(eui64)) {
      throw new ProvisioningInputInvalid(option, trimmed, "an EUI-64 must be 16 hex digits, as in eui64:00124B0001ABCDEF");
    }

    return { kind: "eui64", eui64 };
  }

  throw new ProvisioningInputInvalid(option, trimmed, "expected usb:VID:PID:SERIAL or eui64:XXXXXXXXXXXXXXXX");
}

/** Reads an allowlist file: one entry per line, blank lines and lines starting with `#` ignored. */
export function readAllowlistFile(path: string, option: string): StickAllowlistEntry[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ProvisioningInputInvalid(option, path, `cannot read the file (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }

  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => parseStickEntry(line, `${option} ${path}`));
}

/** Returns whether a stick matches an allowlist entry. An empty allowlist allows no stick. */
export function isStickAllowed(allowlist: readonly StickAllowlistEntry[], stick: StickIdentity): boolean {
  const eui64 = stick.eui64?.replace(/[-:]/g, "").toUpperCase();
  return allowlist.some((entry) => {
    if (entry.kind === "eui64") {
      return eui64 === entry.eui64;
    }

    return (
      stick.vendorId?.toLowerCase() === entry.vendorId &&
      stick.productId?.toLowerCase() === entry.productId &&
      stick.serial === entry.serial
    );
  });
}

/** Formats an entry in the form {@link parseStickEntry} reads. */
export function formatStickEntry(entry: StickAllowlistEntry): string {
  return entry.kind === "usb" ? `usb:${entry.vendorId}:${entry.productId}:${entry.serial}` : `eui64:${entry.eui64}`;
}
