/** Constants of GBZ, the GBCS framing of ZigBee (ZCL) payloads for gas devices and the Comms Hub. */

/** Profile ID that starts every GBZ payload: ZigBee Smart Energy (0x0109). */
export const GBZ_PROFILE_ID = 0x0109;

/** Bits of the Extended Header Control Field of a GBZ use-case-specific component. */
export const ExtendedHeaderControl = {
  /** Set on the last (or only) component of the payload. */
  lastComponent: 0x01,
  /** Set when the ZCL payload is encrypted (for example GCS13a register values). */
  encrypted: 0x02,
  /** Set when a 4-byte From Date Time (ZigBee UTCTime) starts the component body, for example in GCS05. */
  fromDateTime: 0x10,
} as const;

/** Bits of the Extended Header Control Field this codec understands; others are rejected. */
export const KNOWN_CONTROL_BITS =
  ExtendedHeaderControl.lastComponent | ExtendedHeaderControl.encrypted | ExtendedHeaderControl.fromDateTime;

/** Bytes of a ZCL header as GBZ sends it: frame control, transaction sequence number, command identifier. */
export const ZCL_HEADER_LENGTH = 3;

/** ZCL frame control bit that announces a 2-byte manufacturer code after the frame control. */
export const ZCL_MANUFACTURER_SPECIFIC = 0x04;

/** Seconds from 1970-01-01 to 2000-01-01 UTC, the epoch of ZigBee UTCTime. */
export const ZIGBEE_EPOCH_OFFSET_SECONDS = 946_684_800;

/** Returns the ZigBee UTCTime (whole seconds since 2000-01-01 UTC) of an instant. */
export function toZigbeeUtcTime(instant: Date): number {
  return Math.floor(instant.getTime() / 1000) - ZIGBEE_EPOCH_OFFSET_SECONDS;
}

/** Returns the instant of a ZigBee UTCTime. */
export function fromZigbeeUtcTime(seconds: number): Date {
  return new Date((seconds + ZIGBEE_EPOCH_OFFSET_SECONDS) * 1000);
}
