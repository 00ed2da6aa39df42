import { CraFlag } from "../apdu/constants.ts";
import type { GeneralSigning } from "../apdu/general-signing.ts";
import { encodeDlmsApdu, invokeIdFor } from "../dlms/apdu.ts";
import type { DlmsData } from "../dlms/data.ts";
import { GbcsUsageError } from "../errors.ts";
import type { HeaderFields } from "../messages.ts";

/**
 * Builds the grouping header of a device alert: CRA 3 and an empty (`00`) signature field. Non-critical alerts
 * are MAC-wrapped with `wrapWithMac` (KDF mode alert); critical ones are signed with the device DS key instead.
 */
export function buildAlert(fields: HeaderFields): GeneralSigning {
  return {
    cra: CraFlag.alert,
    originatorCounter: fields.counter,
    originator: fields.originator,
    recipient: fields.recipient,
    dateTime: fields.dateTime,
    otherInfo: { ...fields.otherInfo, messageCode: fields.messageCode },
    content: fields.content,
    signature: { form: "empty" },
  };
}

/**
 * Builds the xDLMS content of an ESME alert: a Data-Notification whose body is the structure
 * {long-unsigned alert code, octet-string date-time, …extra}, with the invoke id GBCS derives from the counter.
 */
export function buildDlmsAlertContent(alert: {
  counter: bigint;
  alertCode: number;
  /** DLMS date-time (12 bytes) at which the event happened. */
  timestamp: Uint8Array;
  extra?: DlmsData[];
}): Uint8Array {
  if (alert.timestamp.length !== 12) {
    throw new GbcsUsageError("timestamp", `expected a 12-byte DLMS date-time, got ${alert.timestamp.length} bytes`);
  }

  return encodeDlmsApdu({
    apdu: "data-notification",
    invokeIdAndPriority: invokeIdFor(alert.counter),
    dateTime: undefined,
    body: {
      type: "structure",
      items: [
        { type: "long-unsigned", value: alert.alertCode },
        { type: "octet-string", value: alert.timestamp },
        ...(alert.extra ?? []),
      ],
    },
  });
}
