import { ResponseCode, type ResponseCodeValue } from "./codes.ts";
import type { WebService } from "./constants.ts";
import type { ServiceVariant } from "./access.ts";

/** The web service each command variant is sent to (DUIS command variant table). */
const SERVICE_OF_VARIANT: Record<number, WebService> = {
  1: "S",
  2: "D",
  4: "T",
  5: "S",
  6: "D",
  8: "D",
};

/**
 * Checks a command variant against the URL it arrived on and the service
 * request. Returns the code and reason of a rejection, or undefined.
 *
 * CV 3 and 7 return a WAN command and a local-delivery copy at once; DCC
 * Boxed does not offer them and its clients refuse to send them, so boxd
 * rejects them as an invalid combination. CV 9 is internal to the DCC.
 */
export function checkCommandVariant(
  commandVariant: number,
  endpoint: WebService,
  variant: ServiceVariant,
): { code: ResponseCodeValue; reason: string } | undefined {
  const expected = SERVICE_OF_VARIANT[commandVariant];
  if (!expected) {
    return { code: ResponseCode.invalidCommandVariant, reason: `command variant ${commandVariant} is not offered; use CV 1, 2, 4, 5, 6 or 8` };
  }
  if (expected !== endpoint) {
    return {
      code: ResponseCode.wrongWebService,
      reason: `command variant ${commandVariant} belongs on /api/v1/service${expected}, not /api/v1/service${endpoint}`,
    };
  }

  // Non-device service requests are answered by the DCC itself: CV 8 only.
  if (variant.nonDevice !== (commandVariant === 8)) {
    return {
      code: ResponseCode.invalidCommandVariant,
      reason: `SRV ${variant.variant} is a ${variant.nonDevice ? "non-device" : "device"} request; command variant ${commandVariant} does not apply`,
    };
  }

  // Critical requests go through the transform service first (CV 4, then CV 5 or 6).
  const criticalVariant = commandVariant === 4 || commandVariant === 5 || commandVariant === 6;
  if (!variant.nonDevice && variant.critical !== criticalVariant) {
    return {
      code: ResponseCode.invalidCommandVariant,
      reason: variant.critical
        ? `SRV ${variant.variant} is critical: send it as CV 4 to /api/v1/serviceT, then the signed pre-command as CV 5`
        : `SRV ${variant.variant} is not critical: send it as CV 1 (or 2 for local delivery)`,
    };
  }
  return undefined;
}
