import { EventEmitter } from "node:events";
import type { Logger } from "../log.ts";
import type { Outbox, OutboxMessage } from "./outbox.ts";

/** Delivery settings; every time is in milliseconds. */
export interface DeliverySettings {
  /** Receive Response Service address, with or without `http://`, e.g. `192.168.0.5:1880/smartdcc/duis`. */
  receiverUrl: string;
  /** Time allowed for one POST, from connect to the last byte of the response. */
  requestTimeoutMs: number;
  /** Wait before the first retry; doubled after each failure. */
  retryInitialMs: number;
  /** Maximum wait between two attempts. */
  retryMaxMs: number;
}

/** Turns a receiver address written with or without a scheme into a URL. */
export function receiverUrl(address: string): URL {
  const trimmed = address.trim();
  return new URL(/^https?:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`);
}

/**
 * Delivers outbox messages to the Receive Response Service one at a time, in
 * order, as `application/xml` POSTs. A message leaves the outbox only after a
 * 2xx response. Every other outcome is retried with exponential backoff,
 * without limit, across restarts.
 *
 * Emits `delivered` (message) and `retry` (message, error).
 */
export class Sender extends EventEmitter {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  private stopped = true;
  private inFlight: Promise<void> | undefined;
  private readonly url: URL;

  constructor(
    private readonly outbox: Outbox,
    private readonly settings: DeliverySettings,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    super();
    this.url = receiverUrl(settings.receiverUrl);
  }

  start(): void {
    this.stopped = false;
    this.log.info({ receiver: this.url.href, pending: this.outbox.size }, "delivery started");
    this.kick();
  }

  /** Stops scheduling, waits for the POST in flight, and leaves the rest queued on disk. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.inFlight;
    this.log.info({ pending: this.outbox.size }, "delivery stopped");
  }

  /** Tries due messages now; called after every enqueue. */
  kick(): void {
    if (this.stopped || this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.inFlight = this.drain();
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      for (let due = this.outbox.due(this.now()); due.length > 0 && !this.stopped; due = this.outbox.due(this.now())) {
        for (const message of due) {
          if (this.stopped) break;
          await this.attempt(message);
        }
      }
    } finally {
      this.running = false;
    }
    this.schedule();
  }

  private schedule(): void {
    const next = this.outbox.nextDueAt();
    if (this.stopped || next === undefined) return;
    this.timer = setTimeout(() => this.kick(), Math.max(0, next - this.now()));
  }

  private async attempt(message: OutboxMessage): Promise<void> {
    let error: string;
    try {
      const response = await fetch(this.url, {
        method: "POST",
        headers: { "Content-Type": "application/xml" },
        body: message.body,
        signal: AbortSignal.timeout(this.settings.requestTimeoutMs),
      });
      await response.arrayBuffer();
      if (response.ok) {
        this.outbox.remove(message);
        this.log.info({ requestId: message.requestId, messageId: message.id, status: response.status, attempts: message.attempts + 1 }, "response delivered");
        this.emit("delivered", message);
        return;
      }
      error = `receiver answered HTTP ${response.status}`;
    } catch (caught) {
      error = caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught);
    }

    const delay = Math.min(this.settings.retryMaxMs, this.settings.retryInitialMs * 2 ** Math.min(message.attempts, 30));
    this.outbox.reschedule(message, this.now() + delay, error);
    this.log.warn({ requestId: message.requestId, messageId: message.id, attempts: message.attempts + 1, retryInMs: delay, err: error }, "delivery failed; will retry");
    this.emit("retry", message, error);
  }
}
