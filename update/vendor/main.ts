/**
 * The vendor's repository tool: `npx bun update/vendor/main.ts <command>`.
 * It prints keyids, target names and versions, never key material.
 */
import { parseArgs } from "node:util";
import { CHANNELS, type Channel } from "../client/release.ts";
import { TOP_LEVEL_ROLES, type TopLevelRole } from "../tuf/consts.ts";
import { UpdateError } from "../tuf/errors.ts";
import { KEY_TYPES, type KeyType } from "./keys.ts";
import { DEFAULT_EXPIRY_DAYS, VendorRepository, type RoleSetup } from "./repository.ts";

const HELP = `Usage: bun update/vendor/main.ts <command> --repo DIR [options]

Signs and publishes boxd's update repository (TUF, consistent snapshots).
DIR/public/ is the site to serve from any static web server (folders 0755,
files 0644): boxes read DIR/public/metadata and DIR/public/targets, and the
lock tool writes DIR/public/lock. DIR/keys/ holds the private keys (mode
0600) and must never be served.

Commands:
  init             Create keys for every role and sign root version 1.
                   --key-type ed25519|ecdsa    key algorithm (default ed25519)
                   --ROLE-keys N               keys for ROLE (root, timestamp,
                                               snapshot, targets; default 1)
                   --ROLE-threshold N          signatures ROLE needs (default 1)
  rotate-keys      Replace the keys of one role and sign the next root version.
                   Rotating root signs the new root with the old and new keys.
                   --role ROLE  --keys N  --threshold N  --key-type TYPE
  resign-root      Sign the next root version with unchanged keys (extends expiry).
  add-release      Copy a boxd image into the repository as a full release.
  add-config-patch Copy emulator data for one DUIS and one GBCS version.
                   Both take:
                   --file PATH          file to publish
                   --version SEMVER     release version, for example 2.5.0-rc1
                   --counter N          release counter (orders releases, from 1); unique
                                        per channel among full releases, and among
                                        the config patches of one DUIS/GBCS pair
                   --channel current|upcoming
                   --hardware-id ID     hardware id it installs on (repeatable)
                   --duis VERSION       DUIS version (repeatable for a release)
                   --gbcs VERSION       GBCS version (repeatable for a release)
                   --downgrade-from N   installed counter from which installing
                                        this release is a signed downgrade
                                        (repeatable)
  revoke           Mark a release revoked; boxes never install it.
                   --version SEMVER  --reason TEXT  [--channel current|upcoming]
  remove-target    Stop listing a target.  --target NAME
  publish          Sign and write targets, snapshot and timestamp.
  --help           Show this text.

Each change to targets takes effect on boxes after the next publish.
Signed metadata expires after: root ${DEFAULT_EXPIRY_DAYS.root} days, targets ${DEFAULT_EXPIRY_DAYS.targets}, snapshot ${DEFAULT_EXPIRY_DAYS.snapshot},
timestamp ${DEFAULT_EXPIRY_DAYS.timestamp}. Run publish more often than the timestamp expires, or boxes
reject the repository as expired; run resign-root before root expires.`;

const OPTIONS = {
  repo: { type: "string" },
  "key-type": { type: "string" },
  role: { type: "string" },
  keys: { type: "string" },
  threshold: { type: "string" },
  file: { type: "string" },
  version: { type: "string" },
  counter: { type: "string" },
  channel: { type: "string" },
  "hardware-id": { type: "string", multiple: true },
  duis: { type: "string", multiple: true },
  gbcs: { type: "string", multiple: true },
  "downgrade-from": { type: "string", multiple: true },
  reason: { type: "string" },
  target: { type: "string" },
  help: { type: "boolean" },
  ...Object.fromEntries(TOP_LEVEL_ROLES.flatMap((role) => [[`${role}-keys`, { type: "string" }], [`${role}-threshold`, { type: "string" }]])),
} as const;

type Values = Record<string, string | string[] | boolean | undefined>;

/** A usage error: the command line itself is wrong. */
class UsageError extends Error {}

/** Runs one command; returns the process exit code (0 done, 1 failed, 2 usage error). */
export function run(argv: string[], print: (line: string) => void = console.log, printError: (line: string) => void = console.error): number {
  let command: string | undefined;
  let values: Values;
  try {
    const parsed = parseArgs({ args: argv, options: OPTIONS as never, allowPositionals: true, strict: true });
    command = parsed.positionals[0];
    values = parsed.values as Values;
  } catch (error) {
    printError(`${(error as Error).message}\nRun with --help for usage.`);
    return 2;
  }

  if (values.help === true || command === undefined) {
    print(HELP);
    return command === undefined && values.help !== true ? 2 : 0;
  }

  try {
    runCommand(command, values, print);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      printError(`${error.message}\nRun with --help for usage.`);
      return 2;
    }
    if (error instanceof UpdateError || isFileSystemError(error)) {
      printError((error as Error).message);
      return 1;
    }
    throw error;
  }
}

function runCommand(command: string, values: Values, print: (line: string) => void): void {
  const folder = required(values, "repo");

  switch (command) {
    case "init": {
      const roles: Partial<Record<TopLevelRole, RoleSetup>> = {};
      for (const role of TOP_LEVEL_ROLES) {
        roles[role] = { keys: integer(values, `${role}-keys`, 1), threshold: integer(values, `${role}-threshold`, 1) };
      }
      const repo = VendorRepository.create(folder, { keyType: keyType(values), roles });
      for (const role of TOP_LEVEL_ROLES) {
        print(`${role}: ${repo.keysOf(role).map((key) => key.keyid).join(", ")}`);
      }
      print(`root version ${repo.rootVersion} signed; run publish after adding releases`);
      return;
    }

    case "rotate-keys": {
      const role = oneOf(values, "role", TOP_LEVEL_ROLES);
      const repo = VendorRepository.open(folder);
      const setup = { keys: integer(values, "keys", 1), threshold: integer(values, "threshold", 1) };
      const keyids = repo.rotateKeys(role, setup, { keyType: keyType(values) });
      print(`${role} keys now ${keyids.join(", ")}; root version ${repo.rootVersion} signed; run publish`);
      return;
    }

    case "resign-root": {
      const repo = VendorRepository.open(folder);
      repo.resignRoot();
      print(`root version ${repo.rootVersion} signed`);
      return;
    }

    case "add-release":
    case "add-config-patch": {
      const repo = VendorRepository.open(folder);
      const name = repo.addRelease({
        file: required(values, "file"),
        kind: command === "add-release" ? "full" : "config-patch",
        version: required(values, "version"),
        counter: integer(values, "counter"),
        channel: oneOf(values, "channel", CHANNELS) as Channel,
        hardwareIds: list(values, "hardware-id"),
        duisVersions: list(values, "duis"),
        gbcsVersions: list(values, "gbcs"),
        downgradeFrom: ((values["downgrade-from"] as string[] | undefined) ?? []).map((value) => toInteger("downgrade-from", value)),
      });
      print(`added ${name}; run publish`);
      return;
    }

    case "revoke": {
      const repo = VendorRepository.open(folder);
      const channel = values.channel === undefined ? undefined : (oneOf(values, "channel", CHANNELS) as Channel);
      const names = repo.revokeRelease(required(values, "version"), required(values, "reason"), channel);
      print(`revoked ${names.join(", ")}; run publish`);
      return;
    }

    case "remove-target": {
      const repo = VendorRepository.open(folder);
      repo.removeTarget(required(values, "target"));
      print(`removed ${values.target as string}; run publish`);
      return;
    }

    case "publish": {
      const versions = VendorRepository.open(folder).publish();
      print(`published targets v${versions.targets}, snapshot v${versions.snapshot}, timestamp v${versions.timestamp}`);
      return;
    }

    default:
      throw new UsageError(`Unknown command "${command}".`);
  }
}

function isFileSystemError(error: unknown): boolean {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === "string";
}

function required(values: Values, name: string): string {
  const value = values[name];
  if (typeof value !== "string" || value.length === 0) {
    throw new UsageError(`Missing --${name}.`);
  }
  return value;
}

function list(values: Values, name: string): string[] {
  const value = values[name];
  if (!Array.isArray(value) || value.length === 0) {
    throw new UsageError(`Missing --${name} (give it at least once).`);
  }
  return value;
}

function integer(values: Values, name: string, fallback?: number): number {
  const value = values[name];
  if (value === undefined && fallback !== undefined) return fallback;
  return toInteger(name, required(values, name));
}

function toInteger(name: string, text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value)) {
    throw new UsageError(`--${name} must be a whole number, not "${text}".`);
  }
  return value;
}

function oneOf<T extends string>(values: Values, name: string, allowed: readonly T[]): T {
  const value = required(values, name);
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`--${name} must be one of ${allowed.join(", ")}, not "${value}".`);
  }
  return value as T;
}

function keyType(values: Values): KeyType {
  return values["key-type"] === undefined ? "ed25519" : oneOf(values, "key-type", KEY_TYPES);
}

if (import.meta.main) {
  process.exitCode = run(process.argv.slice(2));
}
