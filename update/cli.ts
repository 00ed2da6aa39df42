/**
 * Box-side update commands: `npx bun update/cli.ts <command>`. Prints one
 * JSON document per command. Installing is the installer's job; `plan`
 * only prints the verified target it would take.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { UpdateClient, type CheckReport, type InstallPlan } from "./client/client.ts";
import { CHANNELS, type Channel } from "./client/release.ts";
import { UpdateError } from "./tuf/errors.ts";

const HELP = `Usage: bun update/cli.ts <command> [options]

Commands:
  init --root FILE          Trust FILE (the vendor's root.json) as the first root.
  check                     Refresh and report what the channel or pin offers.
  follow current|upcoming   Follow a channel and drop any pin.
  pin VERSION               Stay on VERSION of the followed channel.
  unpin                     Follow the channel's latest release again.
  plan [--confirm-downgrade]
                            Print the verified target to install, if any. A
                            vendor-signed downgrade needs --confirm-downgrade.
  auto-install manual|automatic
                            Whether the daemon may install without a user action.

Options:
  --dir DIR                 folder of trusted metadata and state (required)
  --metadata-url URL        base URL of the repository metadata
  --targets-url URL         base URL of the repository targets
  --hardware-id ID          this box's hardware id
  --duis VERSION            DUIS version emulated now (repeatable)
  --gbcs VERSION            GBCS version emulated now (repeatable)
  --running-version SEMVER  release running now (used until one is recorded)
  --running-counter N       release counter running now`;

const OPTIONS = {
  dir: { type: "string" },
  root: { type: "string" },
  "metadata-url": { type: "string" },
  "targets-url": { type: "string" },
  "hardware-id": { type: "string" },
  duis: { type: "string", multiple: true },
  gbcs: { type: "string", multiple: true },
  "running-version": { type: "string" },
  "running-counter": { type: "string" },
  "confirm-downgrade": { type: "boolean" },
  help: { type: "boolean" },
} as const;

type Values = Record<string, string | string[] | boolean | undefined>;

class UsageError extends Error {}

/** Runs one command and returns the exit code: 0 done, 1 failed, 2 usage error. */
export async function run(argv: string[], print: (line: string) => void = console.log, printError: (line: string) => void = console.error): Promise<number> {
  let positionals: string[];
  let values: Values;
  try {
    const parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    positionals = parsed.positionals;
    values = parsed.values as Values;
  } catch (error) {
    printError(`${(error as Error).message}\nRun with --help for usage.`);
    return 2;
  }

  if (values.help === true || positionals.length === 0) {
    print(HELP);
    return values.help === true ? 0 : 2;
  }

  try {
    print(JSON.stringify(await runCommand(positionals, values), replacer, 2));
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      printError(`${error.message}\nRun with --help for usage.`);
      return 2;
    }
    if (error instanceof UpdateError) {
      printError(JSON.stringify({ error: error.name, fault: error.fault, message: error.message }));
      return 1;
    }
    throw error;
  }
}

async function runCommand(positionals: string[], values: Values): Promise<unknown> {
  const [command, argument] = positionals;
  const dir = required(values, "dir");

  if (command === "init") {
    UpdateClient.initialize(dir, new Uint8Array(readFileSync(required(values, "root"))));
    return { initialized: dir };
  }

  const client = clientFrom(dir, values);
  switch (command) {
    case "check":
      return summarize(await client.check());
    case "follow":
      return summarize(await client.followChannel(channelOf(argument)));
    case "pin":
      if (argument === undefined) throw new UsageError("pin needs a VERSION.");
      return summarize(await client.pin(argument));
    case "unpin":
      client.unpin();
      return client.state();
    case "plan":
      return planView(await client.plan({ confirmDowngrade: values["confirm-downgrade"] === true }));
    case "auto-install":
      if (argument !== "manual" && argument !== "automatic") throw new UsageError("auto-install needs manual or automatic.");
      client.setAutoInstall(argument);
      return client.state();
    default:
      throw new UsageError(`Unknown command "${command}".`);
  }
}

function clientFrom(dir: string, values: Values): UpdateClient {
  const counter = Number(required(values, "running-counter"));
  if (!Number.isSafeInteger(counter) || counter < 0) {
    throw new UsageError(`--running-counter must be a whole number, not "${String(values["running-counter"])}".`);
  }

  return new UpdateClient({
    folder: dir,
    metadataBaseUrl: required(values, "metadata-url").replace(/\/+$/, ""),
    targetBaseUrl: required(values, "targets-url").replace(/\/+$/, ""),
    device: {
      hardwareId: required(values, "hardware-id"),
      duisVersions: (values.duis as string[] | undefined) ?? [],
      gbcsVersions: (values.gbcs as string[] | undefined) ?? [],
    },
    running: { version: required(values, "running-version"), counter },
  });
}

/** Returns the report without the raw custom objects, for people to read. */
function summarize(report: CheckReport): unknown {
  const version = (release: { version: string; counter: number } | undefined) => (release === undefined ? null : `${release.version} (counter ${release.counter})`);
  const decision = report.decision;
  return {
    channel: report.channel,
    pin: report.pin ?? null,
    floor: version(report.floor),
    latest: version(report.latest),
    newerThanPin: report.newerThanPin.map(version),
    decision:
      decision.action === "error"
        ? { action: "error", error: decision.error.name, message: decision.error.message }
        : { action: decision.action, ...("release" in decision ? { release: version(decision.release) } : {}), ...("reason" in decision ? { reason: decision.reason } : {}) },
    configPatches: report.configPatches.map((release) => release.name),
    configPatchesSkipped: report.configPatchesSkipped.map((item) => ({ target: item.release.name, reason: item.reason })),
    installedRevoked: report.installedRevoked,
    rejected: report.rejected.map((item) => ({ target: item.name, error: item.error.message })),
    autoInstall: report.autoInstall,
  };
}

function planView(plan: InstallPlan): unknown {
  if (plan.action === "install" || plan.action === "confirm-downgrade") {
    const { release: _release, ...target } = plan.target;
    return { ...plan, target };
  }
  return plan;
}

function replacer(_key: string, value: unknown): unknown {
  return value instanceof Error ? value.message : value;
}

function channelOf(value: string | undefined): Channel {
  if (value === undefined || !(CHANNELS as readonly string[]).includes(value)) {
    throw new UsageError(`follow needs one of ${CHANNELS.join(", ")}.`);
  }
  return value as Channel;
}

function required(values: Values, name: string): string {
  const value = values[name];
  if (typeof value !== "string" || value.length === 0) {
    throw new UsageError(`Missing --${name}.`);
  }
  return value;
}

if (import.meta.main) {
  process.exitCode = await run(process.argv.slice(2));
}
