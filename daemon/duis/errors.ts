import type { ResponseCodeValue } from "./codes.ts";
import type { RequestId } from "./request.ts";

/**
 * A request the DCC rejects with a DUIS response code. The gateway turns it
 * into an HTTP 200 `application/xml` DUIS Response carrying `code`; `reason`
 * goes to the log only.
 */
export class DuisRejection extends Error {
  override readonly name = "DuisRejection";

  constructor(
    readonly code: ResponseCodeValue,
    readonly reason: string,
    readonly requestId?: RequestId,
    readonly serviceReference?: string,
    readonly serviceReferenceVariant?: string,
  ) {
    super(`${code}: ${reason}`);
  }
}

/** An HTTP-level fault that is not a DUIS outcome: wrong method, media type or size. */
export class TransportFault extends Error {
  override readonly name = "TransportFault";

  constructor(
    readonly status: 405 | 413 | 415 | 400,
    message: string,
  ) {
    super(message);
  }
}
