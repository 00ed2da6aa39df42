/**
 * The user's update choices and the installed-release floor, persisted in
 * `client-state.json` next to the trusted metadata. Each change is written
 * atomically before the method that made it returns.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeJsonAtomic } from "../../daemon/state/atomic.ts";
import { CHANNELS, type Channel } from "./release.ts";
import type { InstalledRelease } from "./select.ts";

/** Whether the daemon may install a planned release without a user action. Off by default. */
export type AutoInstall = "manual" | "automatic";

export interface ClientState {
  channel: Channel;
  /** Exact version to stay on; undefined follows the channel's latest release. */
  pin?: string;
  autoInstall: AutoInstall;
  /** The installed full release; its counter is the floor for later installs. */
  installed: InstalledRelease;
  /** Counters of the installed config patches, by DUIS/GBCS pair. */
  patchFloors: Record<string, number>;
}

export class ClientStateFile {
  private readonly path: string;

  constructor(folder: string) {
    this.path = join(folder, "client-state.json");
  }

  /** Returns the stored state, or the first state built from the running release. */
  read(running: InstalledRelease): ClientState {
    if (!existsSync(this.path)) {
      return { channel: "current", autoInstall: "manual", installed: running, patchFloors: {} };
    }

    const stored = JSON.parse(readFileSync(this.path, "utf8")) as ClientState;
    if (!(CHANNELS as readonly string[]).includes(stored.channel)) {
      throw new Error(`${this.path} has an unknown channel "${String(stored.channel)}"; delete the file to start over`);
    }
    return stored;
  }

  write(state: ClientState): void {
    writeJsonAtomic(this.path, state, 0o644);
  }
}
