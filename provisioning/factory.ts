/**
 * Factory command: gives a box its identity and trust anchors, once.
 * Run `npx bun provisioning/factory.ts --help`.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import pino from "pino";
import { setLogLevel, type Logger } from "../daemon/log.ts";
import { DeviceLocked, LockError } from "../update/lock/errors.ts";
import { parseStickEntry, readAllowlistFile, type StickAllowlistEntry } from "./allowlist.ts";
import { DEFAULT_ADMIN_URL, DEVICE_CREDENTIALS_FOLDER, IDENTITY_PUBLIC_KEY_FILE, STATE_DIRECTORY_MODE } from "./constants.ts";
import { ProvisioningError, ProvisioningInputInvalid } from "./errors.ts";
import type { DeviceCredentialsHook } from "./hooks.ts";
import { provisionDevice } from "./provision.ts";

const HELP = `Usage: npx bun provisioning/factory.ts --state DIR --root FILE --lock-key FILE [options]

Provisions a boxd appliance once: device ID, Ed25519 identity key, trust
anchors, admin API credential and Zigbee stick allowlist, written atomically
into DIR (created with mode ${STATE_DIRECTORY_MODE.toString(8)}). Prints the device ID, the public identity
key (also written to DIR/${IDENTITY_PUBLIC_KEY_FILE} for the lock tool's --device-key) and the admin
token; the token is shown only this once and stored only as a hash.

Required:
  --state DIR        Protected state directory of the daemon (its state.directory setting).
  --root FILE        First root metadata of the update repository, R/public/metadata/1.root.json
                     from "npx bun update/vendor/main.ts init --repo R". The box verifies every
                     later root version against it, so it follows key rotations.
  --lock-key FILE    Public key of the lock authority (lock-authority.pub.json from
                     "npx bun update/lock/vendor.ts keygen"). It must not be a key of the root.

Options:
  --stick ENTRY      Allow a Zigbee stick (repeatable). ENTRY is usb:VID:PID:SERIAL (VID and PID
                     as 4 hex digits) or eui64:XXXXXXXXXXXXXXXX (the radio's IEEE address).
  --sticks FILE      Allow the sticks listed in FILE, one ENTRY per line; '#' starts a comment line.
  --device-id ID     Device ID to use (1-64 letters, digits, '.', '_', '-'). Default: boxd- and 16 random hex digits.
  --devices FILE     JSON array of emulated meters, [{"eui": "...", "deviceType": "ESME"}, ...];
                     their GBCS credentials are created in DIR/${DEVICE_CREDENTIALS_FOLDER}.
  --admin-url URL    Admin API address to print. Default: ${DEFAULT_ADMIN_URL}.
  --force            Replace an existing factory identity. Refused while the box is locked.
  --help             Show this text.

Logs are pino JSON on stderr, so stdout carries only the text above. Only
warnings and errors are logged unless BOXD_LOG_LEVEL sets another pino level
(for example info, or silent).

Exit status: 0 provisioned, 1 invalid input or already provisioned, 2 invalid
command line, 3 the box is locked by its lock authority.
`;

/** Log level of the factory command when BOXD_LOG_LEVEL is unset: its stdout already reports what it did. */
const FACTORY_LOG_LEVEL = "warn";

/** Pino levels BOXD_LOG_LEVEL may name. */
const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

/**
 * Returns the factory command's logger, which writes pino JSON to stderr.
 * Modules that log through the daemon's root logger would write to stdout,
 * among the text an operator copies, so the root logger is silenced.
 */
function factoryLogger(level: string): Logger {
  setLogLevel("silent");
  return pino({ level, base: { service: "boxd", ns: "provisioning.factory" }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ dest: 2, sync: true }));
}

/** Minimal view of the device-credentials module that the `--devices` hook uses. */
type DeviceCredentialsModule = {
  loadTrustMaterial: () => unknown;
  loadOrCreateDeviceCredentials: (
    stateDir: string,
    devices: { eui: string; deviceType: string }[],
    trust: unknown,
    options: { log: Logger },
  ) => { list(): unknown[] };
};

/**
 * Returns the hook that creates the GBCS credentials of the meters listed in
 * `devicesFile`, using the device-credentials module in `provisioning/devices`.
 */
function deviceListHook(devicesFile: string): DeviceCredentialsHook {
  let devices: { eui: string; deviceType: string }[];
  try {
    devices = JSON.parse(readFileSync(devicesFile, "utf8"));
  } catch (error) {
    throw new ProvisioningInputInvalid("--devices", devicesFile, `cannot read a JSON device list (${(error as Error).message})`);
  }

  if (!Array.isArray(devices)) {
    throw new ProvisioningInputInvalid("--devices", devicesFile, 'expected a JSON array of {"eui", "deviceType"}');
  }

  return async ({ credentialsDir, log }) => {
    // The module is loaded only when --devices is given, so the rest of the command does not depend on it.
    const modulePath = "./devices/index.ts";
    const module = (await import(modulePath)) as DeviceCredentialsModule;
    const store = module.loadOrCreateDeviceCredentials(credentialsDir, devices, module.loadTrustMaterial(), { log });
    log.info({ credentialsDir, devices: store.list().length }, "device credentials created");
  };
}

function collectAllowlist(sticks: string[] | undefined, sticksFile: string | undefined): StickAllowlistEntry[] {
  const fromOptions = (sticks ?? []).map((entry) => parseStickEntry(entry, "--stick"));
  const fromFile = sticksFile === undefined ? [] : readAllowlistFile(sticksFile, "--sticks");
  return [...fromOptions, ...fromFile];
}

function requireOption(value: string | undefined, name: string): string {
  if (value === undefined || value === "") {
    throw new ProvisioningInputInvalid(`--${name}`, "", "is required. See --help");
  }
  return value;
}

/** Runs the factory command with `argv` (without the runtime and script) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        state: { type: "string" },
        root: { type: "string" },
        "lock-key": { type: "string" },
        stick: { type: "string", multiple: true },
        sticks: { type: "string" },
        "device-id": { type: "string" },
        devices: { type: "string" },
        "admin-url": { type: "string" },
        force: { type: "boolean" },
        help: { type: "boolean" },
      },
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${HELP}`);
    return 2;
  }

  if (values.help === true) {
    console.log(HELP);
    return 0;
  }

  const level = process.env.BOXD_LOG_LEVEL ?? FACTORY_LOG_LEVEL;
  if (!LOG_LEVELS.includes(level)) {
    console.error(`Invalid BOXD_LOG_LEVEL "${level}": expected one of ${LOG_LEVELS.join(", ")}.`);
    return 2;
  }
  const log = factoryLogger(level);

  try {
    const stateDir = requireOption(values.state, "state");
    const result = await provisionDevice({
      log,
      stateDir,
      rootMetadataPath: requireOption(values.root, "root"),
      lockAuthorityKeyPath: requireOption(values["lock-key"], "lock-key"),
      allowlist: collectAllowlist(values.stick, values.sticks),
      force: values.force === true,
      ...(values["device-id"] === undefined ? {} : { deviceId: values["device-id"] }),
      ...(values.devices === undefined ? {} : { deviceCredentials: deviceListHook(values.devices) }),
    });

    const adminUrl = values["admin-url"] ?? DEFAULT_ADMIN_URL;
    console.log(
      [
        `Device ID:        ${result.deviceId}`,
        `Identity key ID:  ${result.identityKeyId}`,
        `Identity key:     ${result.identityPublicKey} (Ed25519 public key, also in ${result.identityPublicKeyPath};`,
        "                  the lock authority passes that file as --device-key to verify check-ins)",
        `Lock key ID:      ${result.lockAuthorityKeyId}`,
        `Admin API:        ${adminUrl} (send the header "Authorization: Bearer <admin token>")`,
        `Admin token:      ${result.adminToken}`,
        "The admin token is shown only now and stored only as a hash. Keep it safe.",
      ].join("\n"),
    );
    return 0;
  } catch (error) {
    if (error instanceof ProvisioningError || error instanceof LockError) {
      console.error(error.message);
      return error instanceof DeviceLocked ? 3 : 1;
    }
    throw error;
  }
}

if (import.meta.main) {
  process.exit(await main(process.argv.slice(2)));
}
