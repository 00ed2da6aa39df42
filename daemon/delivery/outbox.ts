import { existsSync, mkdirSync, readFileSync, readdirSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { syncFolder, writeJsonAtomic } from "../state/atomic.ts";
import { AtomicWriter } from "../state/atomic-writer.ts";

/** One asynchronous DUIS message waiting for delivery to the Receive Response Service. */
export interface OutboxMessage {
  /** Unique, sortable id: the enqueue order. */
  id: string;
  /** The RequestID the message answers, for logs and reconciliation. */
  requestId: string;
  /** Signed DUIS XML. */
  body: string;
  createdAt: string;
  attempts: number;
  /** Epoch milliseconds of the next attempt. */
  nextAttemptAt: number;
  lastError?: string;
}

/**
 * A durable queue of outgoing DUIS messages: one JSON file per message in
 * `<state>/outbox`, written atomically before `enqueue` returns, removed
 * only after the receiver accepted the message. A restart re-reads the
 * folder, so nothing acknowledged with I99 is lost.
 */
export class Outbox {
  private readonly folder: string;
  private readonly pending = new Map<string, OutboxMessage>();
  private readonly writer = new AtomicWriter();
  private sequence = 0;

  constructor(stateDirectory: string) {
    this.folder = join(stateDirectory, "outbox");
    mkdirSync(this.folder, { recursive: true, mode: 0o700 });

    for (const file of readdirSync(this.folder).sort()) {
      if (!file.endsWith(".json")) continue;
      const message = JSON.parse(readFileSync(join(this.folder, file), "utf8")) as OutboxMessage;
      this.pending.set(message.id, message);
    }
  }

  /** Persists a new message and resolves with it once it is on disk; the caller may acknowledge the request afterwards. */
  async enqueue(requestId: string, body: string, now: number): Promise<OutboxMessage> {
    const id = `${now.toString().padStart(15, "0")}-${(this.sequence++).toString().padStart(6, "0")}-${process.pid}`;
    const message: OutboxMessage = {
      id,
      requestId,
      body,
      createdAt: new Date(now).toISOString(),
      attempts: 0,
      nextAttemptAt: now,
    };
    await this.writer.write(this.pathOf(id), `${JSON.stringify(message, null, 2)}\n`);
    this.pending.set(id, message);
    return message;
  }

  /** Messages due at `now`, oldest first. */
  due(now: number): OutboxMessage[] {
    return [...this.pending.values()].filter((message) => message.nextAttemptAt <= now).sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  /** Epoch milliseconds of the earliest next attempt, or undefined when empty. */
  nextDueAt(): number | undefined {
    let earliest: number | undefined;
    for (const message of this.pending.values()) {
      if (earliest === undefined || message.nextAttemptAt < earliest) earliest = message.nextAttemptAt;
    }
    return earliest;
  }

  /** Records a failed attempt and when to try again, persisted before returning. */
  reschedule(message: OutboxMessage, nextAttemptAt: number, error: string): void {
    const updated: OutboxMessage = { ...message, attempts: message.attempts + 1, nextAttemptAt, lastError: error };
    writeJsonAtomic(this.pathOf(message.id), updated);
    this.pending.set(message.id, updated);
  }

  /** Removes a delivered message. */
  remove(message: OutboxMessage): void {
    const path = this.pathOf(message.id);
    if (existsSync(path)) {
      unlinkSync(path);
      syncFolder(this.folder);
    }
    this.pending.delete(message.id);
  }

  /** Stops the writer thread; call after the last enqueue. */
  close(): void {
    this.writer.close();
  }

  get size(): number {
    return this.pending.size;
  }

  list(): OutboxMessage[] {
    return [...this.pending.values()];
  }

  private pathOf(id: string): string {
    return join(this.folder, `${id}.json`);
  }
}
