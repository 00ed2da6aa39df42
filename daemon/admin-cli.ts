/**
 * Command line for a running boxd: `npx bun daemon/admin-cli.ts <command>`.
 * It calls the admin API and prints JSON, except `install`, which prints
 * one progress line per update until the install is done or failed.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { DEFAULT_ADMIN_URL } from "../provisioning/index.ts";

const HELP = `Usage: npx bun daemon/admin-cli.ts --token-file FILE [--url URL] <command>

Commands:
  status                        Version, mode, device id, ports, lock, slots.
  lock                          Lock status.
  refresh-lock                  Fetch the lock statement and check in now.
  devices                       Devices of the emulated HAN.
  signature-validation [on|off] Show or set DUIS signature validation (kept across restarts).
  check                         Refresh signed metadata and report what the channel or pin offers.
  channel current|upcoming      Follow a channel and drop any pin.
  pin VERSION                   Stay on VERSION of the followed channel.
  unpin                         Follow the channel's latest release again.
  install [--confirm-downgrade] Install the planned release and print its progress, one line per update.
  progress                      Progress of the running or last install.
  rollback                      Run the other slot from the next start and mark the release left behind bad.
  bad                           Releases marked bad (failed trial or rolled back); they are not installed again.
  clear-bad VERSION             Remove the bad mark of VERSION, so install may try it again.

Options:
  --url URL          admin API address (default ${DEFAULT_ADMIN_URL})
  --token-file FILE  file with the admin token: the factory command prints it; a development
                     box writes it to admin-token.development in its state folder
  --poll-ms N        wait between two progress requests of install, in ms (default 500)`;

/** Default wait between two progress requests, in ms. */
export const PROGRESS_POLL_INTERVAL_MS = 500;

const OPTIONS = {
  url: { type: "string" },
  "token-file": { type: "string" },
  "poll-ms": { type: "string" },
  "confirm-downgrade": { type: "boolean" },
  help: { type: "boolean" },
} as const;

/** Output channels, replaceable in tests. */
export interface CliIo {
  print(line: string): void;
  printError(line: string): void;
}

const CONSOLE_IO: CliIo = { print: (line) => console.log(line), printError: (line) => console.error(line) };

class UsageError extends Error {}

/** An error response of the admin API, or no response at all. */
class ApiFailed extends Error {
  constructor(
    message: string,
    /** The JSON error body, when the API answered with one. */
    readonly answer?: { error?: string; message?: string; [field: string]: unknown },
  ) {
    super(message);
  }
}

/** Runs one command and returns the exit code: 0 done, 1 refused or failed, 2 usage error. */
export async function run(argv: string[], io: CliIo = CONSOLE_IO): Promise<number> {
  let positionals: string[];
  let values: Record<string, string | boolean | undefined>;
  try {
    const parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    positionals = parsed.positionals;
    values = parsed.values;
  } catch (error) {
    io.printError(`${(error as Error).message}\nRun with --help for usage.`);
    return 2;
  }

  if (values.help === true || positionals.length === 0) {
    io.print(HELP);
    return values.help === true ? 0 : 2;
  }

  try {
    const client = new AdminClient(String(values.url ?? DEFAULT_ADMIN_URL), readToken(values["token-file"]));
    return await runCommand(client, positionals, values, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.printError(`${error.message}\nRun with --help for usage.`);
      return 2;
    }
    if (error instanceof ApiFailed) {
      io.printError(error.message);
      return 1;
    }
    throw error;
  }
}

async function runCommand(client: AdminClient, positionals: string[], values: Record<string, string | boolean | undefined>, io: CliIo): Promise<number> {
  const [command, argument] = positionals;
  const show = (value: unknown) => {
    io.print(JSON.stringify(value, null, 2));
    return 0;
  };

  switch (command) {
    case "status":
      return show(await client.call("GET", "/status"));
    case "lock":
      return show(await client.call("GET", "/lock"));
    case "refresh-lock":
      return show(await client.call("POST", "/lock/refresh"));
    case "devices":
      return show(await client.call("GET", "/han/devices"));
    case "signature-validation":
      if (argument === undefined) return show(await client.call("GET", "/duis/signature-validation"));
      if (argument !== "on" && argument !== "off") throw new UsageError(`signature-validation takes on or off, not "${argument}".`);
      return show(await client.call("PUT", "/duis/signature-validation", { enabled: argument === "on" }));
    case "check":
      return show(await client.call("POST", "/update/check"));
    case "channel":
      if (argument === undefined) throw new UsageError("channel needs current or upcoming.");
      return show(await client.call("PUT", "/update/channel", { channel: argument }));
    case "pin":
      if (argument === undefined) throw new UsageError("pin needs a VERSION.");
      return show(await client.call("PUT", "/update/pin", { version: argument }));
    case "unpin":
      return show(await client.call("DELETE", "/update/pin"));
    case "install":
      return install(client, values["confirm-downgrade"] === true, pollInterval(values["poll-ms"]), io);
    case "progress":
      return show(await client.call("GET", "/update/progress"));
    case "rollback":
      return show(await client.call("POST", "/update/rollback"));
    case "bad":
      return show(await client.call("GET", "/update/bad"));
    case "clear-bad":
      if (argument === undefined) throw new UsageError("clear-bad needs a VERSION; run bad to list the marked versions.");
      return show(await client.call("DELETE", `/update/bad/${encodeURIComponent(argument)}`));
    default:
      throw new UsageError(`Unknown command "${command}".`);
  }
}

/** Starts the install and prints each changed progress line until it is done (0) or failed (1). */
async function install(client: AdminClient, confirmDowngrade: boolean, pollMs: number, io: CliIo): Promise<number> {
  let started: { target: string; version: string };
  try {
    started = (await client.call("POST", "/update/install", { confirmDowngrade })) as { target: string; version: string };
  } catch (error) {
    // The API names its JSON field; from the command line the fix is the option.
    if (error instanceof ApiFailed && error.answer?.error === "DowngradeNotConfirmed") {
      const { version, installed } = error.answer as { version?: string; installed?: string };
      throw new ApiFailed(`DowngradeNotConfirmed: Installing ${version} downgrades from ${installed}. Run install --confirm-downgrade to install it.`);
    }
    throw error;
  }
  io.print(`Installing ${started.version} (${started.target})`);

  let lastLine = "";
  for (;;) {
    const { progress, line } = (await client.call("GET", "/update/progress")) as { progress: { phase: string } | null; line: string | null };
    if (line !== null && line !== lastLine) {
      io.print(line);
      lastLine = line;
    }
    if (progress?.phase === "done") {
      io.print("Installed. Restart boxd to run the new slot; it runs on trial until it reports healthy.");
      return 0;
    }
    if (progress?.phase === "failed") {
      return 1;
    }
    await Bun.sleep(pollMs);
  }
}

class AdminClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  /** Calls one endpoint and returns its JSON, or raises {@link ApiFailed} with the API's message. */
  async call(method: string, path: string, body?: unknown): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl.replace(/\/+$/, "")}${path}`, {
        method,
        headers: { Authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw new ApiFailed(`Cannot reach the admin API at ${this.baseUrl}: ${(error as Error).message}. Is boxd running, and is --url right?`);
    }

    const text = await response.text();
    if (!response.ok) {
      const answer = safeJson(text) as { error?: string; message?: string; [field: string]: unknown } | undefined;
      throw new ApiFailed(answer?.message === undefined ? `HTTP ${response.status} from ${method} ${path}; see the boxd log.` : `${answer.error}: ${answer.message}`, answer);
    }
    return safeJson(text);
  }
}

function readToken(path: string | boolean | undefined): string {
  if (typeof path !== "string" || path === "") {
    throw new UsageError("Missing --token-file.");
  }

  try {
    return readFileSync(path, "utf8").trim();
  } catch (error) {
    throw new UsageError(`Cannot read the token file ${path}: ${(error as Error).message}.`);
  }
}

function pollInterval(text: string | boolean | undefined): number {
  if (text === undefined) {
    return PROGRESS_POLL_INTERVAL_MS;
  }

  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > 60_000) {
    throw new UsageError(`--poll-ms must be a whole number of ms from 1 to 60000, not "${String(text)}".`);
  }
  return value;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

if (import.meta.main) {
  process.exitCode = await run(process.argv.slice(2));
}
