import type { DuisRequest } from "../../duis/request.ts";
import type { DeviceType } from "../han.ts";

/** Body of the pre-command the DCC transforms a critical DUIS request into (CV 4): GBCS message code and DLMS content. */
export interface PreCommandBody {
  messageCode: number;
  content: Uint8Array;
  /** DLMS date-time of the grouping header, when the use case carries one. */
  dateTime?: Uint8Array;
}

/** Device's reply to the command built from the signed pre-command. */
export interface DeviceAnswer {
  content: Uint8Array;
  /** DLMS date-time of the response's grouping header, when the use case carries one. */
  dateTime?: Uint8Array;
}

/** A critical GBCS use case boxd emulates: the DCC's transform and the device's execution. */
export interface CriticalUseCase {
  /** GBCS use case, e.g. ECS70. */
  name: string;
  deviceTypes: readonly DeviceType[];
  /** Builds the pre-command body from the DUIS request, or returns the reason it cannot. */
  transform(request: DuisRequest, counter: bigint): PreCommandBody | { rejected: string };
  /** Executes the command on the device and returns its reply; `now` is the device clock. */
  execute(content: Uint8Array, counter: bigint, now: Date): DeviceAnswer;
}
