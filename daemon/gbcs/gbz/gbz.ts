import { ByteReader, concatBytes, encodeUint16, encodeUint32 } from "../bytes.ts";
import { GbcsUsageError } from "../errors.ts";
import {
  ExtendedHeaderControl,
  GBZ_PROFILE_ID,
  KNOWN_CONTROL_BITS,
  ZCL_MANUFACTURER_SPECIFIC,
} from "./constants.ts";

/** The ZCL header of a component: frame control, optional manufacturer code, sequence number, command. */
export interface ZclHeader {
  frameControl: number;
  manufacturerCode?: number;
  sequenceNumber: number;
  commandId: number;
}

/** A GBZ use-case-specific component in clear: the ZCL header and the ZCL payload after it. */
export interface PlainGbzComponent {
  encrypted: false;
  /** Extended Header Control Field as sent; bit 0 marks the last component. */
  control: number;
  clusterId: number;
  /** ZigBee UTCTime of a future-dated or ranged command; present exactly when control bit 0x10 is set. */
  fromDateTime?: number;
  zcl: ZclHeader;
  payload: Uint8Array;
}

/**
 * A GBZ component whose ZCL payload is encrypted. After the extended header come the additional header control
 * and frame counter (both 0 in GBCS), the ZCL header in clear, a 2-byte length, and the protected payload
 * `31 00000000 ‖ ciphertext ‖ tag(12)` (see `decryptPayload`).
 */
export interface EncryptedGbzComponent {
  encrypted: true;
  control: number;
  clusterId: number;
  /** NOTE: placed first in the body as for plain components; no RTDS 4.5.0 vector has it on an encrypted one. */
  fromDateTime?: number;
  additionalHeaderControl: number;
  additionalFrameCounter: number;
  zcl: ZclHeader;
  protectedPayload: Uint8Array;
}

export type GbzComponent = PlainGbzComponent | EncryptedGbzComponent;

/** A GBZ command or response: the profile ID, a component count and the components. */
export interface GbzPayload {
  form: "components";
  components: GbzComponent[];
}

/**
 * A GBZ alert: the profile ID, a header byte, the alert code, a ZigBee UTCTime (seconds since 2000-01-01 UTC)
 * and alert-specific data, which may itself hold components (GCS53) or a few raw bytes (MIIWA).
 */
export interface GbzAlert {
  form: "alert";
  /** NOTE: 0x01 in every RTDS 4.5.0 GBZ alert; its meaning is not checked here, so it is kept as sent. */
  headerControl: number;
  alertCode: number;
  timestamp: number;
  data: Uint8Array;
}

/** Decodes a GBZ command or response payload that fills `bytes` exactly. */
export function decodeGbzPayload(bytes: Uint8Array, base = 0): GbzPayload {
  const reader: ByteReader = new ByteReader(bytes, "GBZ payload", base);
  readProfileId(reader);

  const count = reader.u8("component count");
  if (count === 0) reader.fail("component count", "expected at least one component");

  const components: GbzComponent[] = [];
  for (let i = 0; i < count; i++) {
    const component = readComponent(reader);
    const isLast = (component.control & ExtendedHeaderControl.lastComponent) !== 0;
    if (isLast !== (i === count - 1)) {
      reader.fail("extended header control", `last-component bit is ${isLast ? "set" : "clear"} on component ${i + 1} of ${count}`);
    }
    components.push(component);
  }

  reader.end();
  return { form: "components", components };
}

/**
 * Decodes the alert data of a GBZ alert as a run of components without a count, as GCS53 sends them. Raises
 * when the data is not a whole number of components, as with the two raw bytes of a MIIWA alert.
 */
export function decodeGbzAlertComponents(alert: GbzAlert): GbzComponent[] {
  const reader: ByteReader = new ByteReader(alert.data, "GBZ alert data");
  const components: GbzComponent[] = [];
  while (reader.remaining > 0) components.push(readComponent(reader));
  return components;
}

/** Decodes a GBZ alert payload that fills `bytes` exactly. */
export function decodeGbzAlert(bytes: Uint8Array, base = 0): GbzAlert {
  const reader: ByteReader = new ByteReader(bytes, "GBZ alert", base);
  readProfileId(reader);

  const headerControl = reader.u8("header control");
  const alertCode = reader.u16("alert code");
  const timestamp = reader.u32("timestamp");
  return { form: "alert", headerControl, alertCode, timestamp, data: reader.take(reader.remaining, "alert data") };
}

export function encodeGbzPayload(payload: GbzPayload): Uint8Array {
  if (payload.components.length === 0 || payload.components.length > 0xff) {
    throw new GbcsUsageError("components", `expected 1..255 components, got ${payload.components.length}`);
  }

  return concatBytes(
    encodeUint16(GBZ_PROFILE_ID, "profile ID"),
    Uint8Array.of(payload.components.length),
    ...payload.components.map(encodeComponent),
  );
}

export function encodeGbzAlert(alert: GbzAlert): Uint8Array {
  const timestamp = alert.timestamp;
  return concatBytes(
    encodeUint16(GBZ_PROFILE_ID, "profile ID"),
    Uint8Array.of(alert.headerControl),
    encodeUint16(alert.alertCode, "alertCode"),
    encodeUint32(timestamp, "timestamp"),
    alert.data,
  );
}

function readProfileId(reader: ByteReader): void {
  const profileId = reader.u16("profile ID");
  if (profileId !== GBZ_PROFILE_ID) {
    reader.fail("profile ID", `expected 0x0109 (ZigBee Smart Energy), got 0x${profileId.toString(16)}`);
  }
}

function readComponent(reader: ByteReader): GbzComponent {
  const control = reader.u8("extended header control");
  if ((control & ~KNOWN_CONTROL_BITS) !== 0) {
    reader.fail("extended header control", `0x${control.toString(16)} sets bits this codec does not support`);
  }

  const clusterId = reader.u16("cluster ID");
  const length = reader.u16("GBZ command length");
  const bodyOffset = reader.absoluteOffset;
  const body: ByteReader = new ByteReader(reader.take(length, "GBZ command"), "GBZ component", bodyOffset);
  const hasFromDateTime = (control & ExtendedHeaderControl.fromDateTime) !== 0;
  const fromDateTime = hasFromDateTime ? { fromDateTime: body.u32("from date-time") } : {};

  if ((control & ExtendedHeaderControl.encrypted) === 0) {
    const zcl = readZclHeader(body);
    const payload = body.take(body.remaining, "ZCL payload");
    return { encrypted: false, control, clusterId, ...fromDateTime, zcl, payload };
  }

  const additionalHeaderControl = body.u8("additional header control");
  const additionalFrameCounter = body.u8("additional frame counter");
  const zcl = readZclHeader(body);
  const protectedLength = body.u16("ciphered information length");
  const protectedPayload = body.take(protectedLength, "ciphered information");
  body.end();
  return {
    encrypted: true,
    control,
    clusterId,
    ...fromDateTime,
    additionalHeaderControl,
    additionalFrameCounter,
    zcl,
    protectedPayload,
  };
}

function encodeComponent(component: GbzComponent): Uint8Array {
  const hasFromDateTime = (component.control & ExtendedHeaderControl.fromDateTime) !== 0;
  if (hasFromDateTime !== (component.fromDateTime !== undefined)) {
    throw new GbcsUsageError("fromDateTime", "must be present exactly when control bit 0x10 is set");
  }
  const fromDateTime = component.fromDateTime === undefined ? new Uint8Array(0) : encodeUint32(component.fromDateTime, "fromDateTime");

  let body: Uint8Array;
  if (component.encrypted) {
    body = concatBytes(
      Uint8Array.of(component.additionalHeaderControl, component.additionalFrameCounter),
      encodeZclHeader(component.zcl),
      encodeUint16(component.protectedPayload.length, "protectedPayload length"),
      component.protectedPayload,
    );
  } else {
    body = concatBytes(encodeZclHeader(component.zcl), component.payload);
  }

  return concatBytes(
    Uint8Array.of(component.control),
    encodeUint16(component.clusterId, "clusterId"),
    encodeUint16(fromDateTime.length + body.length, "GBZ command length"),
    fromDateTime,
    body,
  );
}

function readZclHeader(reader: ByteReader): ZclHeader {
  const frameControl = reader.u8("ZCL frame control");
  const header: ZclHeader = { frameControl, sequenceNumber: 0, commandId: 0 };
  if ((frameControl & ZCL_MANUFACTURER_SPECIFIC) !== 0) {
    const low = reader.u8("manufacturer code");
    header.manufacturerCode = low | (reader.u8("manufacturer code") << 8);
  }

  header.sequenceNumber = reader.u8("ZCL sequence number");
  header.commandId = reader.u8("ZCL command identifier");
  return header;
}

function encodeZclHeader(header: ZclHeader): Uint8Array {
  const hasCode = (header.frameControl & ZCL_MANUFACTURER_SPECIFIC) !== 0;
  if (hasCode !== (header.manufacturerCode !== undefined)) {
    throw new GbcsUsageError("zcl", "manufacturerCode must be present exactly when frame control bit 0x04 is set");
  }

  const code = header.manufacturerCode;
  return concatBytes(
    Uint8Array.of(header.frameControl),
    code === undefined ? new Uint8Array(0) : Uint8Array.of(code & 0xff, code >> 8),
    Uint8Array.of(header.sequenceNumber, header.commandId),
  );
}
