import { encodeDlmsDateTime } from "../../gbcs/index.ts";
import type { DuisRequest } from "../../duis/request.ts";
import type { CriticalUseCase } from "./critical-use-case.ts";
import {
  accessRequest,
  accessResponse,
  array,
  cosem,
  DUIS_CANCELLATION_DATE_TIME,
  enumeration,
  IMMEDIATE_DATE_TIME,
  nullData,
  octets,
  structure,
  successes,
  UNSPECIFIED_DATE_TIME,
} from "./dlms.ts";

/** GBCS message code of ECS02 Set ESME Payment Mode to Credit (DUIS SRV 1.6 Update Payment Mode). */
export const ECS02_MESSAGE_CODE = 0x001a;

/** The Account object: class 111, OBIS 0-1:19.0.0.255. */
const ACCOUNT_OBIS = "0001130000FF";
/**
 * Account attributes the switch sets, as RTDS ECS02 does: 2 the account mode
 * and status, 11 the scripts to run, 13 when to run them.
 */
const ACCOUNT_MODE_AND_STATUS = 2;
const SCRIPT_REFERENCES = 11;
const EXECUTION_TIME = 13;
/** Script table 0-0:19.10.0.255 and the scripts the switch to credit runs on a single-element ESME. */
const SCRIPT_TABLE = "0000130A00FF";
const CREDIT_SCRIPTS = ["0000131400FF", "0000131404FF"];

/** GBCS execution time of a DUIS ExecutionDateTime: now, a future instant, or cancelled. */
function executionTime(text: string | undefined): Uint8Array {
  if (text === undefined) return IMMEDIATE_DATE_TIME;
  const instant = new Date(text);
  return instant.getTime() === DUIS_CANCELLATION_DATE_TIME ? UNSPECIFIED_DATE_TIME : encodeDlmsDateTime(instant);
}

/**
 * ECS02 (SRV 1.6, Credit): the ESME's account switches to credit mode, now,
 * at the ExecutionDateTime, or never (the cancellation date). The device
 * returns one success per attribute set, with its clock in the header.
 */
export const paymentMode: CriticalUseCase = {
  name: "ECS02",
  deviceTypes: ["ESME"],

  transform(request: DuisRequest, counter: bigint) {
    if (!request.bodyFields.has("Credit")) {
      // NOTE: Prepayment mode (GBCS ECS03 on the same SRV) is not emulated yet.
      return { rejected: "UpdatePaymentMode to Prepayment is not emulated; this release switches to Credit only" };
    }

    const specifications = [ACCOUNT_MODE_AND_STATUS, SCRIPT_REFERENCES, EXECUTION_TIME].map((attribute) => ({
      kind: "set" as const,
      descriptor: cosem(111, ACCOUNT_OBIS, attribute),
    }));
    const scripts = CREDIT_SCRIPTS.map((script) =>
      structure(octets(SCRIPT_TABLE), octets(script), { type: "bit-string", bitLength: 3, value: Uint8Array.of(0xe0) }),
    );
    const data = [structure(enumeration(1), enumeration(1)), array(...scripts), octets(executionTime(request.bodyFields.get("ExecutionDateTime")))];

    return { messageCode: ECS02_MESSAGE_CODE, content: accessRequest(counter, specifications, data) };
  },

  execute(_content: Uint8Array, counter: bigint, now: Date) {
    const content = accessResponse(counter, [nullData, nullData, nullData], successes("set", 3));
    return { content, dateTime: encodeDlmsDateTime(now) };
  },
};
