/**
 * Errors of the SMKI interface. All of them are the caller's fault, and the
 * repository returns each with the HTTP status the DCC Boxed client expects.
 */
import { MAX_QUOTED_VALUE_CHARS, STATUS_INVALID_PARAMETERS, STATUS_NOT_FOUND } from "./consts.ts";

function quote(value: string): string {
  const shown = value.length > MAX_QUOTED_VALUE_CHARS ? `${value.slice(0, MAX_QUOTED_VALUE_CHARS)}…` : value;
  return JSON.stringify(shown);
}

/** The request body or one of its elements is invalid. The repository returns HTTP 401. */
export class SmkiRequestError extends Error {
  override readonly name = "SmkiRequestError";
  readonly status = STATUS_INVALID_PARAMETERS;

  constructor(
    /** The element (or `body`) that is invalid. */
    readonly field: string,
    readonly value: string | undefined,
    readonly reason: string,
  ) {
    super(`${field}${value === undefined ? "" : ` ${quote(value)}`} is invalid: ${reason}.`);
  }
}

/** No certificate matches the search or the serial. The repository returns HTTP 402. */
export class SmkiNotFoundError extends Error {
  override readonly name = "SmkiNotFoundError";
  readonly status = STATUS_NOT_FOUND;

  constructor(
    readonly field: string,
    readonly value: string,
  ) {
    super(`No certificate matches ${field} ${quote(value)}. Check the value against the device inventory or keystore.json.`);
  }
}
