/**
 * Every setting of boxd, with its type, unit and embedded default. The
 * config file (`--config FILE`, JSON) and environment variables
 * (`BOXD_` + the dotted key in upper case with `.` as `_`, e.g.
 * `BOXD_DUIS_PORT=8079`) override the defaults in that order.
 */

type Kind =
  | { type: "port" }
  | { type: "integer"; min: number; max: number; unit: string }
  | { type: "boolean" }
  | { type: "string"; pattern?: RegExp; example?: string }
  /** An http or https URL, or "" to turn the feature off. */
  | { type: "url"; example: string }
  | { type: "address"; example: string }
  | { type: "enum"; values: readonly string[] }
  | { type: "roles" };

export interface SettingSpec {
  kind: Kind;
  default: unknown;
  description: string;
}

const MIB = 1024 * 1024;

export const SETTINGS = {
  "state.directory": {
    kind: { type: "string", example: "/var/lib/boxd" },
    default: "state",
    description: "Folder of everything boxd persists: devices, keys, counters, queued responses, update and lock state",
  },
  "log.level": {
    kind: { type: "enum", values: ["fatal", "error", "warn", "info", "debug", "trace", "silent"] },
    default: "info",
    description: "Lowest pino level written to stdout",
  },
  "duis.host": {
    kind: { type: "string", example: "0.0.0.0" },
    default: "0.0.0.0",
    description: "Address the DUIS gateway listens on",
  },
  "duis.port": { kind: { type: "port" }, default: 8079, description: "TCP port of the DUIS gateway (0 picks a free port)" },
  "duis.maxBodyBytes": {
    kind: { type: "integer", min: 1024, max: 64 * MIB, unit: "bytes" },
    default: 1 * MIB,
    description: "Largest DUIS request body accepted; larger bodies get HTTP 413 while they stream in",
  },
  "duis.validateSignatures": {
    kind: { type: "boolean" },
    default: true,
    description: "Check the XML signature of every request (DCC Boxed's 'DUIS Signature validation' switch)",
  },
  "duis.responseSignerSerial": {
    kind: { type: "string", pattern: /^\d+$/, example: "20315062944123339095836004026371736578" },
    default: "20315062944123339095836004026371736578",
    description:
      "Decimal serial written into the KeyInfo of signed responses: 20315062944123339095836004026371736578 (DCC Boxed 25.11 and later) or 167048897159233642262001557408276884033 (1.4.1 to 2025); both certificates hold the same key",
  },
  "duis.users": {
    kind: { type: "roles" },
    default: {},
    description: "Extra DUIS users and their roles, as {\"<EUI>\": [\"IS\", \"GS\", ...]}; added to the ZAZ1 test organisations",
  },
  "smki.host": { kind: { type: "string", example: "0.0.0.0" }, default: "0.0.0.0", description: "Address the SMKI repository listens on" },
  "smki.port": { kind: { type: "port" }, default: 8083, description: "TCP port of the SMKI repository (0 picks a free port)" },
  "admin.host": {
    kind: { type: "string", example: "127.0.0.1" },
    default: "127.0.0.1",
    description: "Address the admin API listens on",
  },
  "admin.port": { kind: { type: "port" }, default: 8090, description: "TCP port of the admin API (0 picks a free port)" },
  "update.metadataUrl": {
    kind: { type: "url", example: "http://127.0.0.1:8000/metadata" },
    default: "",
    description:
      "Base URL of the update repository's signed metadata (root, timestamp, snapshot, targets); empty turns updates off. The remote lock reads lock/<deviceId>.json from the folder above it",
  },
  "update.targetsUrl": {
    kind: { type: "url", example: "http://127.0.0.1:8000/targets" },
    default: "",
    description: "Base URL of the update repository's release files; empty turns updates off",
  },
  "update.hardwareId": {
    kind: { type: "string", pattern: /^[A-Za-z0-9._-]{1,64}$/, example: "nuc-11-pro" },
    default: "generic-x86_64",
    description: "Hardware id of this box; only releases signed for it are offered",
  },
  "update.autoInstall": {
    kind: { type: "enum", values: ["manual", "automatic"] },
    default: "manual",
    description: "Whether boxd may install a planned release without a user action; 'manual' waits for POST /update/install",
  },
  "lock.checkInUrl": {
    kind: { type: "url", example: "http://127.0.0.1:8001/check-in" },
    default: "",
    description:
      "URL the lock authority (the DCC) receives signed check-ins on; with update.metadataUrl it turns lock refreshes on. Empty keeps the stored lock state without refreshing it",
  },
  "lock.refreshIntervalMs": {
    kind: { type: "integer", min: 1000, max: 86_400_000, unit: "ms" },
    default: 300_000,
    description: "Wait between two lock refreshes while the box is locked, so an unlock statement arrives",
  },
  "lock.bootRefreshTimeoutMs": {
    kind: { type: "integer", min: 100, max: 600_000, unit: "ms" },
    default: 10_000,
    description: "Longest wait for the lock refresh at boot; on timeout boxd starts with the stored lock state",
  },
  "receiver.url": {
    kind: { type: "address", example: "192.168.0.5:1880/smartdcc/duis" },
    default: "127.0.0.1:1880/smartdcc/duis",
    description: "Receive Response Service address for asynchronous responses and alerts, with or without http://",
  },
  "receiver.requestTimeoutMs": {
    kind: { type: "integer", min: 100, max: 600_000, unit: "ms" },
    default: 3000,
    description: "Time allowed for one delivery POST to the Receive Response Service",
  },
  "receiver.retryInitialMs": {
    kind: { type: "integer", min: 1, max: 600_000, unit: "ms" },
    default: 500,
    description: "Wait before the first delivery retry; doubles after each failure",
  },
  "receiver.retryMaxMs": {
    kind: { type: "integer", min: 1, max: 3_600_000, unit: "ms" },
    default: 60_000,
    description: "Maximum wait between two delivery attempts",
  },
  "gbcs.responseRouting": {
    kind: { type: "enum", values: ["originator", "acb"] },
    default: "originator",
    description:
      "Whom device responses are addressed to: 'originator' (the DUIS user, counter = RequestID counter, as the RTDS vectors) or 'acb' (the access control broker with the user as supplementary remote party, as DCC Boxed since 2022)",
  },
  "shutdown.drainMs": {
    kind: { type: "integer", min: 0, max: 600_000, unit: "ms" },
    default: 10_000,
    description: "Maximum wait for in-flight requests and deliveries on SIGTERM or SIGINT",
  },
} satisfies Record<string, SettingSpec>;

export type SettingKey = keyof typeof SETTINGS;
