import { GbcsDecodeError, GbcsUsageError } from "../errors.ts";

/** Bytes of a COSEM date-time (IEC 62056-6-2 4.1.6.1). */
export const DLMS_DATE_TIME_LENGTH = 12;

/** Deviation value 0x8000: the offset from UTC is not specified. */
export const DEVIATION_NOT_SPECIFIED = -0x8000;

/** Day-of-week value 0xFF: not specified, as the RTDS vectors send it. */
export const WEEKDAY_NOT_SPECIFIED = 0xff;

/** Clock status 0xFF: not specified, as the RTDS vectors send it. */
export const CLOCK_STATUS_NOT_SPECIFIED = 0xff;

/**
 * Encodes a UTC instant as a COSEM date-time: year (2 bytes), month, day, day of week, hour, minute, second,
 * hundredths, deviation (2 bytes) and clock status. The deviation is 0x8000 (not specified), and the day of
 * week and the clock status default to 0xFF, as in the RTDS vectors.
 */
export function encodeDlmsDateTime(instant: Date, options: { weekday?: number; clockStatus?: number } = {}): Uint8Array {
  const time = instant.getTime();
  if (!Number.isFinite(time)) throw new GbcsUsageError("instant", "is an invalid Date");

  const year = instant.getUTCFullYear();
  if (year < 0 || year > 0xfffe) throw new GbcsUsageError("instant", `year ${year} is outside 0..65534`);

  const deviationBits = DEVIATION_NOT_SPECIFIED & 0xffff;
  return Uint8Array.of(
    year >> 8,
    year & 0xff,
    instant.getUTCMonth() + 1,
    instant.getUTCDate(),
    options.weekday ?? WEEKDAY_NOT_SPECIFIED,
    instant.getUTCHours(),
    instant.getUTCMinutes(),
    instant.getUTCSeconds(),
    Math.floor(instant.getUTCMilliseconds() / 10),
    deviationBits >> 8,
    deviationBits & 0xff,
    options.clockStatus ?? CLOCK_STATUS_NOT_SPECIFIED,
  );
}

/**
 * Decodes a COSEM date-time into a `Date`, reading the fields as UTC. Fields sent as "not specified" (0xFF, or
 * 0xFFFF for the year) are rejected because they name no single instant. So is a deviation other than 0 or
 * 0x8000, because GBCS date-times are UTC and this decoder does not apply offsets.
 */
export function decodeDlmsDateTime(bytes: Uint8Array): Date {
  if (bytes.length !== DLMS_DATE_TIME_LENGTH) {
    throw new GbcsDecodeError("DLMS date-time", "length", 0, `expected 12 bytes, got ${bytes.length}`);
  }

  const year = (bytes[0]! << 8) | bytes[1]!;
  const [month, day, , hour, minute, second, hundredths] = Array.from(bytes.subarray(2, 9));
  const fields = { year, month, day, hour, minute, second };
  for (const [name, value] of Object.entries(fields)) {
    if (value === 0xff || value === 0xffff) {
      throw new GbcsDecodeError("DLMS date-time", name, 0, "is not specified (0xFF), so the date-time names no instant");
    }
  }

  const deviation = (bytes[9]! << 8) | bytes[10]!;
  if (deviation !== 0 && deviation !== 0x8000) {
    throw new GbcsDecodeError("DLMS date-time", "deviation", 9, `0x${deviation.toString(16)} is not 0 or 0x8000 (UTC)`);
  }

  const centis = hundredths === 0xff ? 0 : hundredths!;
  return new Date(Date.UTC(year, month! - 1, day!, hour!, minute!, second!, centis * 10));
}
