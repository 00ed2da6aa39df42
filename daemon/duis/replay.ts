import type { Eui } from "./eui.ts";

/** Most CV 4 transforms kept open for their CV 5 at once; the oldest are dropped first. */
export const MAX_OPEN_TRANSFORMS = 1000;

/**
 * Anti-replay rule for DUIS RequestID counters (DUIS: each request from a
 * user carries a counter greater than that of its previous request; the
 * DCC Boxed signing tool sets it to the signing time in milliseconds).
 *
 * - Counters are kept per originator.
 * - A new counter must be strictly greater than the last accepted one.
 * - Exception: a CV 5 request carries the RequestID of the CV 4 transform
 *   it completes, so it may repeat that counter, once.
 *
 * The rule object does no I/O; `CounterStore` persists its state.
 */
export class ReplayRule {
  constructor(
    private readonly last: Map<Eui, bigint> = new Map(),
    private readonly openTransforms: Map<string, true> = new Map(),
  ) {}

  /** Returns why `counter` is not acceptable from `originator`, or undefined when it is. */
  check(originator: Eui, target: Eui, counter: bigint, commandVariant: number): string | undefined {
    if (commandVariant === 5) {
      if (this.openTransforms.has(transformKey(originator, target, counter))) return undefined;
      return `CV 5 RequestID counter ${counter} does not match an open CV 4 transform from ${originator} to ${target}`;
    }

    const previous = this.last.get(originator);
    if (previous !== undefined && counter <= previous) {
      return `RequestID counter ${counter} from ${originator} is not greater than the last accepted ${previous}`;
    }
    return undefined;
  }

  /**
   * Records an accepted request. The last counter only ever grows, so
   * replaying older records over a newer snapshot changes nothing.
   */
  accept(originator: Eui, target: Eui, counter: bigint, commandVariant: number): void {
    if (commandVariant === 5) {
      this.openTransforms.delete(transformKey(originator, target, counter));
      return;
    }

    const previous = this.last.get(originator);
    if (previous === undefined || counter > previous) this.last.set(originator, counter);
    if (commandVariant === 4) {
      this.openTransforms.set(transformKey(originator, target, counter), true);
      while (this.openTransforms.size > MAX_OPEN_TRANSFORMS) this.openTransforms.delete(this.openTransforms.keys().next().value!);
    }
  }

  toJSON(): { last: Record<string, string>; openTransforms: string[] } {
    return {
      last: Object.fromEntries([...this.last].map(([eui, counter]) => [eui, counter.toString()])),
      openTransforms: [...this.openTransforms.keys()],
    };
  }

  static fromJSON(data: { last?: Record<string, string>; openTransforms?: string[] }): ReplayRule {
    const last = new Map<Eui, bigint>();
    for (const [eui, counter] of Object.entries(data.last ?? {})) last.set(eui as Eui, BigInt(counter));
    return new ReplayRule(last, new Map((data.openTransforms ?? []).map((key) => [key, true as const])));
  }
}

function transformKey(originator: Eui, target: Eui, counter: bigint): string {
  return `${originator}:${target}:${counter}`;
}
