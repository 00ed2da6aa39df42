import { readFileSync } from "node:fs";
import { SETTINGS, type SettingKey, type SettingSpec } from "./settings.ts";
import type { UserRole } from "../duis/access.ts";

/** The resolved configuration: every setting has a value. */
export interface Config {
  state: { directory: string };
  log: { level: string };
  duis: {
    host: string;
    port: number;
    maxBodyBytes: number;
    validateSignatures: boolean;
    responseSignerSerial: string;
    users: Record<string, UserRole[]>;
  };
  smki: { host: string; port: number };
  admin: { host: string; port: number };
  update: { metadataUrl: string; targetsUrl: string; hardwareId: string; autoInstall: "manual" | "automatic" };
  lock: { checkInUrl: string; refreshIntervalMs: number; bootRefreshTimeoutMs: number };
  receiver: { url: string; requestTimeoutMs: number; retryInitialMs: number; retryMaxMs: number };
  gbcs: { responseRouting: "originator" | "acb" };
  shutdown: { drainMs: number };
}

/** A configuration value or key the operator has to fix; boot stops on it. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";

  constructor(
    readonly key: string,
    readonly source: string,
    message: string,
  ) {
    super(`${source}: ${message}`);
  }
}

const USER_ROLES: readonly UserRole[] = ["IS", "ES", "GS", "ED", "GT", "RSA", "OU", "LC"];

function allowed(spec: SettingSpec): string {
  const kind = spec.kind;
  switch (kind.type) {
    case "port":
      return "an integer from 0 to 65535";
    case "integer":
      return `an integer from ${kind.min} to ${kind.max} (${kind.unit})`;
    case "boolean":
      return "true or false";
    case "enum":
      return `one of ${kind.values.join(", ")}`;
    case "roles":
      return `an object of EUI-64 to a list of roles (${USER_ROLES.join(", ")})`;
    case "string":
      return kind.example ? `a string such as ${kind.example}` : "a string";
    case "url":
      return `an http or https URL such as ${kind.example}, or "" to turn it off`;
    case "address":
      return `host:port/path with or without http:// or https://, such as ${kind.example}`;
  }
}

/** Checks and converts one value; `fromText` is true for environment variables. */
function coerce(key: string, spec: SettingSpec, value: unknown, source: string, fromText: boolean): unknown {
  const fail = (): never => {
    throw new ConfigError(key, source, `invalid value ${JSON.stringify(value)} for ${key}; expected ${allowed(spec)}`);
  };
  const kind = spec.kind;

  switch (kind.type) {
    case "port":
    case "integer": {
      const number = fromText && typeof value === "string" && /^-?\d+$/.test(value) ? Number(value) : value;
      if (typeof number !== "number" || !Number.isInteger(number)) return fail();
      const [min, max] = kind.type === "port" ? [0, 65535] : [kind.min, kind.max];
      if (number < min || number > max) return fail();
      return number;
    }
    case "boolean": {
      if (typeof value === "boolean") return value;
      if (fromText && (value === "true" || value === "false")) return value === "true";
      return fail();
    }
    case "enum":
      if (typeof value !== "string" || !kind.values.includes(value)) return fail();
      return value;
    case "string":
      if (typeof value !== "string" || value.length === 0) return fail();
      if (kind.pattern && !kind.pattern.test(value)) return fail();
      return value;
    case "url":
      if (typeof value !== "string") return fail();
      if (value === "") return value;
      if (!isHttpUrl(value)) return fail();
      return value.replace(/\/+$/, "");
    case "address": {
      if (typeof value !== "string" || value.trim() === "") return fail();
      const trimmed = value.trim();
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) && !/^https?:\/\//i.test(trimmed)) return fail();
      if (!isHttpUrl(/^https?:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`)) return fail();
      return trimmed;
    }
    case "roles": {
      const parsed = fromText && typeof value === "string" ? safeJson(value, fail) : value;
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return fail();
      const users: Record<string, UserRole[]> = {};
      for (const [eui, roles] of Object.entries(parsed)) {
        if (!/^[0-9A-Fa-f]{16}$/.test(eui.replaceAll("-", ""))) return fail();
        if (!Array.isArray(roles) || !roles.every((role) => USER_ROLES.includes(role))) return fail();
        users[eui.replaceAll("-", "").toUpperCase()] = roles;
      }
      return users;
    }
  }
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}

function safeJson(text: string, fail: () => never): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return fail();
  }
}

/** Flattens `{ duis: { port: 1 } }` to `{ "duis.port": 1 }`, keeping the `roles` objects whole. */
function flatten(value: unknown, source: string, prefix = ""): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ConfigError(prefix || "(root)", source, `expected an object at ${prefix || "the top level"}`);
  }
  for (const [name, child] of Object.entries(value)) {
    const key = prefix ? `${prefix}.${name}` : name;
    if (key in SETTINGS) {
      out.set(key, child);
      continue;
    }
    const isSection = Object.keys(SETTINGS).some((known) => known.startsWith(`${key}.`));
    if (!isSection) {
      throw new ConfigError(key, source, `unknown setting ${key}; known settings are ${Object.keys(SETTINGS).join(", ")}`);
    }
    for (const [nested, nestedValue] of flatten(child, source, key)) out.set(nested, nestedValue);
  }
  return out;
}

function environmentName(key: string): string {
  return `BOXD_${key.replace(/([a-z])([A-Z])/g, "$1_$2").replaceAll(".", "_").toUpperCase()}`;
}

/**
 * Resolves the configuration: embedded defaults, then the JSON file at
 * `configPath` if given, then `BOXD_*` environment variables. An unknown key
 * or a bad value throws a {@link ConfigError} naming the key and what is
 * allowed.
 */
export function loadConfig(configPath?: string, environment: Record<string, string | undefined> = process.env): Config {
  const values = new Map<string, unknown>();
  for (const [key, spec] of Object.entries(SETTINGS)) values.set(key, spec.default);

  if (configPath) {
    let text: string;
    try {
      text = readFileSync(configPath, "utf8");
    } catch (error) {
      throw new ConfigError("--config", configPath, `cannot read the config file: ${(error as Error).message}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new ConfigError("--config", configPath, `the config file is not valid JSON (${(error as Error).message}); fix it or remove --config`);
    }
    for (const [key, value] of flatten(parsed, configPath)) {
      values.set(key, coerce(key, SETTINGS[key as SettingKey], value, configPath, false));
    }
  }

  const known = new Map(Object.keys(SETTINGS).map((key) => [environmentName(key), key]));
  for (const [name, value] of Object.entries(environment)) {
    if (!name.startsWith("BOXD_") || value === undefined) continue;
    const key = known.get(name);
    if (!key) {
      throw new ConfigError(name, "environment", `unknown variable ${name}; known variables are ${[...known.keys()].join(", ")}`);
    }
    values.set(key, coerce(key, SETTINGS[key as SettingKey], value, `environment variable ${name}`, true));
  }

  const config: Record<string, Record<string, unknown>> = {};
  for (const [key, value] of values) {
    const [section, name] = key.split(".") as [string, string];
    (config[section] ??= {})[name] = value;
  }
  return config as unknown as Config;
}

/** Lists every setting with its environment variable, default and meaning, for `--help`. */
export function describeSettings(): string {
  return Object.entries(SETTINGS)
    .map(([key, spec]) => `  ${key}  (${environmentName(key)}, default ${JSON.stringify(spec.default)})\n      ${spec.description}`)
    .join("\n");
}
