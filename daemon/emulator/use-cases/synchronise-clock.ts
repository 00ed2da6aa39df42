import { encodeDlmsDateTime } from "../../gbcs/index.ts";
import type { DuisRequest } from "../../duis/request.ts";
import type { CriticalUseCase } from "./critical-use-case.ts";
import { accessRequest, accessResponse, cosem, enumeration, nullData, octets, structure, successes, UNSPECIFIED_DATE_TIME } from "./dlms.ts";

/** GBCS message code of ECS70 Set Clock on the ESME (DUIS SRV 6.11 Synchronise Clock). */
export const ECS70_MESSAGE_CODE = 0x0062;

/** The ESME clock: class 8 (Clock), OBIS 0-0:1.0.0.255. */
const CLOCK_OBIS = "0000010000FF";
/** Clock attribute 9, clock_base, set to 5 (GPS) before the adjustment, as RTDS ECS70 does. */
const CLOCK_BASE = 9;
/** Clock methods: 5 preset_adjusting_time(preset, validity start, validity end), 4 adjust_to_preset_time. */
const PRESET_ADJUSTING_TIME = 5;
const ADJUST_TO_PRESET_TIME = 4;
/** Clock attributes read back: 2 time, 4 status. */
const TIME = 2;
const STATUS = 4;

/**
 * ECS70 (SRV 6.11): the DCC sets the ESME's clock to the time the user sent,
 * valid from CurrentDateTime to CurrentDateTime + TolerancePeriod seconds.
 * The ESME returns the results and reads back its time and clock status.
 */
export const synchroniseClock: CriticalUseCase = {
  name: "ECS70",
  deviceTypes: ["ESME"],

  transform(request: DuisRequest, counter: bigint) {
    const current = request.bodyFields.get("CurrentDateTime");
    const tolerance = Number(request.bodyFields.get("TolerancePeriod"));
    if (current === undefined || !Number.isInteger(tolerance)) {
      return { rejected: "SynchroniseClock needs CurrentDateTime and TolerancePeriod" };
    }
    const start = new Date(current);

    const specifications = [
      { kind: "set", descriptor: cosem(8, CLOCK_OBIS, CLOCK_BASE) },
      { kind: "action", descriptor: cosem(8, CLOCK_OBIS, PRESET_ADJUSTING_TIME) },
      { kind: "action", descriptor: cosem(8, CLOCK_OBIS, ADJUST_TO_PRESET_TIME) },
      { kind: "get", descriptor: cosem(8, CLOCK_OBIS, TIME) },
      { kind: "get", descriptor: cosem(8, CLOCK_OBIS, STATUS) },
    ] as const;
    const validity = structure(
      octets(UNSPECIFIED_DATE_TIME),
      octets(encodeDlmsDateTime(start)),
      octets(encodeDlmsDateTime(new Date(start.getTime() + tolerance * 1000))),
    );

    const content = accessRequest(counter, [...specifications], [enumeration(5), validity, { type: "integer", value: 0 }, nullData, nullData]);
    return { messageCode: ECS70_MESSAGE_CODE, content };
  },

  execute(_content: Uint8Array, counter: bigint, now: Date) {
    const data = [nullData, nullData, nullData, octets(encodeDlmsDateTime(now)), { type: "unsigned", value: 0 } as const];
    const results = [...successes("set", 1), ...successes("action", 2), ...successes("get", 2)];
    return { content: accessResponse(counter, data, results) };
  },
};
