import { existsSync, readFileSync } from "node:fs";
import { writeJsonAtomic } from "../state/atomic.ts";

/** Most transforms (CV 4) kept open for their CV 5 at once; the oldest are dropped first. */
export const MAX_OPEN_PRE_COMMANDS = 1000;

/**
 * Pre-commands the DCC issued on CV 4, by RequestID, until the user returns
 * them signed on CV 5 or 6. Kept in `<state>/pre-commands.json`, written
 * atomically before the pre-command is returned, so a transform survives a
 * restart and a returned pre-command can be checked byte for byte.
 */
export class PreCommandStore {
  private readonly open = new Map<string, string>();

  constructor(private readonly path: string) {
    if (existsSync(path)) {
      for (const [requestId, hex] of Object.entries(JSON.parse(readFileSync(path, "utf8")) as Record<string, string>)) {
        this.open.set(requestId, hex);
      }
    }
  }

  put(requestId: string, preCommand: Uint8Array): void {
    this.open.delete(requestId);
    this.open.set(requestId, Buffer.from(preCommand).toString("hex"));
    while (this.open.size > MAX_OPEN_PRE_COMMANDS) this.open.delete(this.open.keys().next().value!);
    this.save();
  }

  get(requestId: string): Uint8Array | undefined {
    const hex = this.open.get(requestId);
    return hex === undefined ? undefined : Buffer.from(hex, "hex");
  }

  delete(requestId: string): void {
    if (this.open.delete(requestId)) this.save();
  }

  private save(): void {
    writeJsonAtomic(this.path, Object.fromEntries(this.open));
  }
}
