import { existsSync, readFileSync } from "node:fs";
import { AtomicWriter } from "../state/atomic-writer.ts";
import type { Eui } from "./eui.ts";

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
 * The rule object does no I/O; {@link CounterStore} persists its state.
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

  /** Records an accepted request. */
  accept(originator: Eui, target: Eui, counter: bigint, commandVariant: number): void {
    if (commandVariant === 5) {
      this.openTransforms.delete(transformKey(originator, target, counter));
      return;
    }

    this.last.set(originator, counter);
    if (commandVariant === 4) this.openTransforms.set(transformKey(originator, target, counter), true);
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

/**
 * Keeps the replay state in one JSON file. A counter is accepted in memory
 * at once, so a concurrent replay of it is rejected, and the request is
 * answered only after a write that includes it has reached the disk (temp
 * file, fsync, rename). The write runs on a worker thread, and requests
 * accepted while one is in progress share the next (group commit).
 */
export class CounterStore {
  readonly rule: ReplayRule;
  private readonly writer = new AtomicWriter();
  private current: Promise<void> | undefined;
  private next: Promise<void> | undefined;

  constructor(private readonly path: string) {
    this.rule = existsSync(path) ? ReplayRule.fromJSON(JSON.parse(readFileSync(path, "utf8"))) : new ReplayRule();
  }

  /** Checks the counter and, when acceptable, records it and waits until it is on disk. Returns the rejection reason if any. */
  async checkAndAccept(originator: Eui, target: Eui, counter: bigint, commandVariant: number): Promise<string | undefined> {
    const problem = this.rule.check(originator, target, counter, commandVariant);
    if (problem) return problem;

    this.rule.accept(originator, target, counter, commandVariant);
    await this.persist();
    return undefined;
  }

  /** Stops the writer thread; call after the last request is answered. */
  close(): void {
    this.writer.close();
  }

  /** Resolves once a write that started after this call has finished. */
  private persist(): Promise<void> {
    if (!this.current) {
      this.current = this.writer.write(this.path, `${JSON.stringify(this.rule.toJSON(), null, 2)}\n`).finally(() => {
        this.current = undefined;
      });
      return this.current;
    }

    this.next ??= this.current.then(
      () => this.startNext(),
      () => this.startNext(),
    );
    return this.next;
  }

  private startNext(): Promise<void> {
    this.next = undefined;
    return this.persist();
  }
}
