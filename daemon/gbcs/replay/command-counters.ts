import { existsSync, readFileSync } from "node:fs";
import { logger } from "../../log.ts";
import { writeJsonAtomic } from "../../state/atomic.ts";
import { CraFlag } from "../apdu/constants.ts";
import type { GeneralSigning } from "../apdu/general-signing.ts";
import { CounterFileError, GbcsReplayError, GbcsUsageError } from "../errors.ts";
import { type Eui64, parseEui64 } from "../eui.ts";

const log = logger("gbcs.replay");

/** Largest GBCS originator counter: the field is an unsigned 64-bit integer. */
const MAX_COUNTER = 0xffff_ffff_ffff_ffffn;

/** Version of the counter file layout. */
const COUNTER_FILE_VERSION = 1;

/**
 * GBCS replay protection on the device side. The rules, with no I/O:
 * - A device keeps, per originator, the originator counter of the last command it accepted.
 * - A new command is accepted only if its counter is strictly greater than that value.
 * - The device stores the new value once it accepts the command, before it sends the response.
 *
 * {@link loadCommandCounters} and {@link saveCommandCounters} persist the state; the caller saves after
 * {@link CommandCounterRule.accept} and before it sends the response.
 */
export class CommandCounterRule {
  private readonly last = new Map<string, bigint>();

  /** Raises {@link GbcsReplayError} unless `command` carries a counter above the last accepted one. */
  check(command: GeneralSigning): void {
    const key = counterKey(command);
    const previous = this.last.get(key);
    if (previous !== undefined && command.originatorCounter <= previous) {
      throw new GbcsReplayError(command.recipient, command.originator, command.originatorCounter, previous);
    }
  }

  /** Checks `command` and records its counter as the last accepted from its originator. */
  accept(command: GeneralSigning): void {
    this.check(command);
    this.last.set(counterKey(command), command.originatorCounter);
  }

  /** Returns the last accepted counter from `originator` at `device`, or undefined before the first. */
  lastAccepted(device: Eui64, originator: Eui64): bigint | undefined {
    return this.last.get(`${device}:${originator}`);
  }

  toJSON(): { version: number; counters: Record<string, string> } {
    const counters = Object.fromEntries([...this.last].map(([key, counter]) => [key, counter.toString()]));
    return { version: COUNTER_FILE_VERSION, counters };
  }

  /** Restores a rule from {@link toJSON} output; `source` names the input in errors. */
  static fromJSON(json: unknown, source: string): CommandCounterRule {
    const rule = new CommandCounterRule();
    const record = json as { version?: unknown; counters?: unknown };
    if (typeof json !== "object" || json === null || record.version !== COUNTER_FILE_VERSION) {
      throw new CounterFileError(source, `expected {version: ${COUNTER_FILE_VERSION}, counters}, got another layout`);
    }
    if (typeof record.counters !== "object" || record.counters === null) {
      throw new CounterFileError(source, `counters must be an object with "device:originator" keys`);
    }

    for (const [key, value] of Object.entries(record.counters)) {
      const [device, originator] = key.split(":");
      const valid = typeof value === "string" && /^\d{1,20}$/.test(value) && isEui(device) && isEui(originator);
      if (!valid || BigInt(value) > MAX_COUNTER) {
        throw new CounterFileError(source, `entry "${key}" is not "device:originator" with an unsigned 64-bit decimal counter`);
      }
      rule.last.set(`${parseEui64(device!)}:${parseEui64(originator!)}`, BigInt(value));
    }
    return rule;
  }
}

/** Loads the rule from `path`; a missing file starts an empty rule, as on a device's first boot. */
export function loadCommandCounters(path: string): CommandCounterRule {
  if (!existsSync(path)) {
    log.info({ path }, "no command counter file, starting with no accepted counters");
    return new CommandCounterRule();
  }

  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new CounterFileError(path, `cannot be read as JSON (${(error as Error).message})`);
  }

  const rule = CommandCounterRule.fromJSON(json, path);
  log.info({ path, entries: Object.keys(rule.toJSON().counters).length }, "loaded command counters");
  return rule;
}

/** Writes the rule atomically (temp file, fsync, rename), so a power cut keeps the old or the new state. */
export function saveCommandCounters(path: string, rule: CommandCounterRule): void {
  writeJsonAtomic(path, rule.toJSON());
}

function counterKey(command: GeneralSigning): string {
  if (command.cra !== CraFlag.command) {
    throw new GbcsUsageError("command", `expected CRA flag 1 (command), got ${command.cra}`);
  }
  return `${command.recipient}:${command.originator}`;
}

function isEui(text: string | undefined): boolean {
  return text !== undefined && /^[0-9A-F]{16}$/i.test(text);
}
