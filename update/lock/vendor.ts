/**
 * Lock authority tool: creates the lock key and issues lock and unlock
 * statements into an update repository folder as `lock/<deviceId>.json`.
 * Run `npx bun update/lock/vendor.ts --help`.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { readCheckIn } from "./check-in.ts";
import { makePublicFolder, writePublicFile } from "../vendor/public-files.ts";
import { DEFAULT_LOCK_LIMITS, STATEMENT_FOLDER, STATEMENT_TYPE } from "./constants.ts";
import { LockError, LockSettingInvalid } from "./errors.ts";
import {
  generateKeyPair,
  readPublicKeyFile,
  readSecretKeyFile,
  signEnvelope,
  writePublicKeyFile,
  writeSecretKeyFile,
  type Ed25519KeyPair,
} from "./keys.ts";
import { isDeviceId, isNonce, parseStatement, type LockStateName, type LockStatement, type LockStatementBody } from "./statement.ts";

/** Working-state file that marks a folder as a vendor repository made by `update/vendor/main.ts`. */
const VENDOR_STATE_FILE = "repository.json";

/** Folder of a vendor repository that the web server serves. */
const VENDOR_PUBLIC_FOLDER = "public";

/** File names written by `keygen`. The public key file is what the factory command takes as the lock anchor. */
export const AUTHORITY_SECRET_KEY_FILE = "lock-authority.key.json";
export const AUTHORITY_PUBLIC_KEY_FILE = "lock-authority.pub.json";

const HELP = `Usage: npx bun update/lock/vendor.ts COMMAND [options]

Lock authority tool for boxd. The lock key signs lock and unlock statements
and must be used for nothing else (not for any update repository role).

Commands:
  keygen  --out DIR [--force]
          Create an Ed25519 lock key: DIR/${AUTHORITY_SECRET_KEY_FILE} (mode 0600, keep offline)
          and DIR/${AUTHORITY_PUBLIC_KEY_FILE} (give it to the factory command).
          Refuses to overwrite an existing key unless --force is given.

  lock    --key FILE --repo DIR --device ID --message TEXT --contact TEXT [--sequence N]
          Write a signed lock statement to DIR/public/${STATEMENT_FOLDER}/ID.json when DIR is a vendor
          repository (the --repo of update/vendor/main.ts), else to DIR/${STATEMENT_FOLDER}/ID.json.
          The box reads ${STATEMENT_FOLDER}/ID.json in the folder above its update.metadataUrl, stops
          updating and serving at its next refresh and shows MESSAGE and CONTACT.

  unlock  --key FILE --repo DIR --device ID (--nonce HEX | --check-in FILE) [--device-key FILE]
          [--sequence N] [--message TEXT] [--contact TEXT]
          Write a signed unlock statement. It must carry the nonce of the box's latest
          check-in: pass it with --nonce, or pass the latest check-in report the lock
          authority received with --check-in. The box accepts the nonce of any of its
          latest ${DEFAULT_LOCK_LIMITS.nonceWindowCheckIns} check-ins. With --device-key (the box's identity public key,
          identity.pub.json in its state folder, written by the factory command) the
          check-in signature is verified too.

Options:
  --sequence N   Sequence number of the statement, an integer from 1 to 2^53-1. Default: 1 above
                 the sequence already in the repository and, for an unlock with --check-in,
                 above the lock sequence the box reported.
  --help         Show this text.
`;

/** Parameters of {@link issueStatement}. */
export type IssueOptions = {
  authority: Ed25519KeyPair;
  repositoryDir: string;
  deviceId: string;
  state: LockStateName;
  message: string;
  contact: string;
  /** Defaults to 1 above the published sequence and above `reportedSequence`. */
  sequence?: number;
  /** Lock sequence the box reported in its latest check-in, if known. */
  reportedSequence?: number;
  /** Required for an unlock: the nonce of the box's latest check-in. */
  nonce?: string;
};

/**
 * Signs a statement with the lock key and writes it atomically to
 * `<repositoryDir>/lock/<deviceId>.json`. Raises {@link LockSettingInvalid}
 * on a bad device ID, nonce or a sequence not above the one already published.
 */
export function issueStatement(options: IssueOptions): { path: string; statement: LockStatement } {
  if (!isDeviceId(options.deviceId)) {
    throw new LockSettingInvalid("--device", options.deviceId, "use 1 to 64 letters, digits, '.', '_' or '-'");
  }

  if (options.state === "unlocked" && !isNonce(options.nonce)) {
    throw new LockSettingInvalid("--nonce", options.nonce ?? "", "an unlock needs the 64-hex-digit nonce of the box's latest check-in");
  }

  const folder = join(servedFolder(options.repositoryDir), STATEMENT_FOLDER);
  const path = join(folder, `${options.deviceId}.json`);
  // The box rejects any sequence not above the one it applied. That is at most the published
  // one, unless the repository file was lost, so the sequence the box reports counts too.
  const floor = Math.max(publishedSequence(path), options.reportedSequence ?? 0);
  const sequence = options.sequence ?? floor + 1;
  if (!Number.isSafeInteger(sequence) || sequence <= floor) {
    throw new LockSettingInvalid(
      "--sequence",
      String(sequence),
      `must be an integer greater than ${floor}, the sequence already published or reported by the box, or the box rejects it as a replay`,
    );
  }

  const body: LockStatementBody = {
    type: STATEMENT_TYPE,
    deviceId: options.deviceId,
    state: options.state,
    sequence,
    message: options.message,
    contact: options.contact,
    ...(options.state === "unlocked" ? { nonce: options.nonce } : {}),
  };

  const statement = signEnvelope(body, options.authority);
  // The web server reads the statement as another user, so its folder and file are world-readable whatever the umask.
  makePublicFolder(folder);
  writePublicFile(path, `${JSON.stringify(statement, null, 2)}\n`);
  return { path, statement };
}

/**
 * Returns the folder the web server serves for `repositoryDir`. Boxes read
 * `lock/<deviceId>.json` in the folder above the metadata URL, which for a
 * vendor repository (a folder with `repository.json`) is its `public/`
 * folder. Any other folder is taken as the served folder itself.
 */
export function servedFolder(repositoryDir: string): string {
  return existsSync(join(repositoryDir, VENDOR_STATE_FILE)) ? join(repositoryDir, VENDOR_PUBLIC_FOLDER) : repositoryDir;
}

/** Returns the sequence of the statement at `path`, or 0 if there is none. */
function publishedSequence(path: string): number {
  if (!existsSync(path)) {
    return 0;
  }

  try {
    return parseStatement(readFileSync(path), DEFAULT_LOCK_LIMITS).signed.sequence;
  } catch (error) {
    throw new LockSettingInvalid("--repo", path, `the published statement is invalid (${(error as Error).message}); pass --sequence`);
  }
}

/**
 * Returns the nonce and lock sequence from a check-in report file. With
 * `deviceKeyPath`, it also verifies the signature.
 */
function readCheckInFile(checkInPath: string, deviceId: string, deviceKeyPath: string | undefined): { nonce: string; lockSequence: number } {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(checkInPath, "utf8"));
  } catch (error) {
    throw new LockSettingInvalid("--check-in", checkInPath, `cannot read a JSON check-in report (${(error as Error).message})`);
  }

  const deviceKey = deviceKeyPath === undefined ? undefined : readPublicKeyFile(deviceKeyPath, "--device-key");
  const body = readCheckIn(value, deviceKey);
  if (body.deviceId !== deviceId) {
    throw new LockSettingInvalid("--check-in", checkInPath, `the report is from device ${body.deviceId}, not ${deviceId}`);
  }

  const lockSequence = Number.isSafeInteger(body.lockSequence) && body.lockSequence >= 0 ? body.lockSequence : 0;
  return { nonce: body.nonce, lockSequence };
}

function runKeygen(values: Record<string, string | boolean | undefined>): void {
  const out = requireOption(values, "out");
  const secretPath = join(out, AUTHORITY_SECRET_KEY_FILE);
  if (existsSync(secretPath) && values.force !== true) {
    throw new LockSettingInvalid("--out", out, `${AUTHORITY_SECRET_KEY_FILE} already exists. Pass --force to replace it`);
  }

  const pair = generateKeyPair();
  writeSecretKeyFile(secretPath, pair);
  writePublicKeyFile(join(out, AUTHORITY_PUBLIC_KEY_FILE), pair.publicKey);
  console.log(`Lock key ${pair.keyId} written to ${out}.`);
}

function runIssue(state: LockStateName, values: Record<string, string | boolean | undefined>): void {
  const authority = readSecretKeyFile(requireOption(values, "key"), "--key");
  const deviceId = requireOption(values, "device");
  const sequenceText = values.sequence as string | undefined;

  let nonce: string | undefined;
  let reportedSequence: number | undefined;
  const checkInPath = values["check-in"] as string | undefined;
  if (state === "unlocked" && checkInPath !== undefined) {
    ({ nonce, lockSequence: reportedSequence } = readCheckInFile(checkInPath, deviceId, values["device-key"] as string | undefined));
  } else if (state === "unlocked") {
    nonce = requireOption(values, "nonce");
  }

  const { path, statement } = issueStatement({
    authority,
    repositoryDir: requireOption(values, "repo"),
    deviceId,
    state,
    message: state === "locked" ? requireOption(values, "message") : ((values.message as string | undefined) ?? ""),
    contact: state === "locked" ? requireOption(values, "contact") : ((values.contact as string | undefined) ?? ""),
    ...(sequenceText === undefined ? {} : { sequence: Number(sequenceText) }),
    ...(nonce === undefined ? {} : { nonce }),
    ...(reportedSequence === undefined ? {} : { reportedSequence }),
  });
  console.log(`${state === "locked" ? "Lock" : "Unlock"} statement for ${deviceId}, sequence ${statement.signed.sequence}, written to ${path}.`);
}

function requireOption(values: Record<string, string | boolean | undefined>, name: string): string {
  const value = values[name];
  if (typeof value !== "string" || value === "") {
    throw new LockSettingInvalid(`--${name}`, "", "is required. See --help");
  }
  return value;
}

/** Runs the command line `argv` (without the runtime and script) and returns the exit code. */
export function main(argv: string[]): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        help: { type: "boolean" },
        force: { type: "boolean" },
        out: { type: "string" },
        key: { type: "string" },
        repo: { type: "string" },
        device: { type: "string" },
        message: { type: "string" },
        contact: { type: "string" },
        sequence: { type: "string" },
        nonce: { type: "string" },
        "check-in": { type: "string" },
        "device-key": { type: "string" },
      },
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${HELP}`);
    return 2;
  }

  const command = parsed.positionals[0];
  if (parsed.values.help === true || command === undefined) {
    console.log(HELP);
    return command === undefined && parsed.values.help !== true ? 2 : 0;
  }

  try {
    switch (command) {
      case "keygen":
        runKeygen(parsed.values);
        return 0;
      case "lock":
        runIssue("locked", parsed.values);
        return 0;
      case "unlock":
        runIssue("unlocked", parsed.values);
        return 0;
      default:
        console.error(`Unknown command ${JSON.stringify(command)}; expected keygen, lock or unlock. See --help.`);
        return 2;
    }
  } catch (error) {
    if (error instanceof LockError) {
      console.error(error.message);
      return 1;
    }
    throw error;
  }
}

if (import.meta.main) {
  process.exit(main(process.argv.slice(2)));
}
