import pino, { type Logger } from "pino";

/**
 * The root logger: pino JSON to stdout. Each module takes a child with its
 * own namespace, for example `logger("duis.gateway")`.
 *
 * Never pass key material, tokens or whole DUIS bodies to a log call; log
 * ids, lengths, counts and codes instead.
 */
/** The level before the configuration is loaded; `log.level` replaces it at boot once validated. */
const EARLY_LEVEL = "info";

const root: Logger = pino({
  level: EARLY_LEVEL,
  base: { service: "boxd" },
  timestamp: pino.stdTimeFunctions.isoTime,
});

export type { Logger };

/** Returns the logger of one module, tagged with `ns`. */
export function logger(namespace: string): Logger {
  return root.child({ ns: namespace });
}

/** Sets the level of every logger, for example `silent` in tests. */
export function setLogLevel(level: string): void {
  root.level = level;
}
