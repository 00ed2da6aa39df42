import { ConfigError, describeSettings, loadConfig } from "./config/load.ts";
import { startBoxd } from "./boot.ts";
import { logger } from "./log.ts";

const USAGE = `boxd: a DCC Boxed compatible test appliance for the GB smart-metering system

Usage: boxd [--config FILE]   (from a checkout: npm start -- [--config FILE])

  --config FILE   JSON file overriding the embedded defaults, e.g. {"duis": {"port": 8079}}
  --help          print this help

Settings (config file key, environment variable, default):
${describeSettings()}
`;

const log = logger("main");

function parseArguments(argv: string[]): { configPath?: string } {
  let configPath: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const argument = argv[i]!;
    if (argument === "--help" || argument === "-h") {
      process.stdout.write(USAGE);
      process.exit(0);
    } else if (argument === "--config") {
      configPath = argv[++i];
      if (!configPath) throw new ConfigError("--config", "command line", "--config needs a file path");
    } else if (argument.startsWith("--config=")) {
      configPath = argument.slice("--config=".length);
    } else {
      throw new ConfigError(argument, "command line", `unknown argument ${argument}; see --help`);
    }
  }
  return { configPath };
}

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(parseArguments(process.argv.slice(2)).configPath);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`boxd: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }

  const boxd = await startBoxd(config);
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      log.info({ signal }, "stop requested");
      void boxd.stop().then(() => process.exit(0));
    });
  }
}

main().catch((error: unknown) => {
  log.fatal({ err: error }, "boxd failed to start");
  process.exitCode = 1;
  setTimeout(() => process.exit(1), 100).unref();
});
