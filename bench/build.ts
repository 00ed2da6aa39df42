/**
 * Builds `dist/boxd`: one self-contained executable with the Bun runtime,
 * the bundled daemon as bytecode and the runtime files it reads (DUIS schema
 * set, ZAZ1 and RTDS trust PKI) embedded at their source-tree paths, which
 * `daemon/runtime-files.ts` resolves.
 *
 * Locked-down flags: `--compile --minify --bytecode --sourcemap=linked
 * --no-compile-autoload-dotenv --no-compile-autoload-bunfig`, so a `.env`
 * or `bunfig.toml` in the working folder cannot change the binary. Never
 * strip the result: the payload sits at the end of the file.
 *
 * Usage: bun bench/build.ts [--outfile PATH]
 */
import { readdirSync } from "node:fs";
import { basename, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { BunPlugin } from "bun";

const ROOT = resolve(import.meta.dir, "..");

/** Source-tree folders whose files the daemon reads at run time; every file in them is embedded. */
export const RUNTIME_FOLDERS = ["daemon/duis/schema", "provisioning/trust/zaz1", "provisioning/trust/rtds"];

/**
 * Worker scripts the daemon starts with `new Worker(new URL("./x.ts", import.meta.url))`.
 * A compiled binary contains a worker only when it is a build entry point.
 * Without it the worker fails to load, and the callers of AtomicWriter wait forever.
 */
export const WORKER_ENTRY_POINTS = ["daemon/state/atomic-worker.ts"];

/** Lists the runtime files to embed, as absolute paths. */
export function runtimeFiles(root = ROOT): string[] {
  return RUNTIME_FOLDERS.flatMap((folder) =>
    readdirSync(join(root, folder))
      .sort()
      .map((name) => join(root, folder, name)),
  );
}

/**
 * Embeds each runtime file as raw bytes: the plugin prepends one
 * `import "<file>" with { type: "file" }` per file to the daemon's entry
 * module. Listing the files as entry points instead would bundle
 * `keystore.json` as a module and leave its file out.
 */
function embedRuntimeFiles(mainPath: string, files: readonly string[]): BunPlugin {
  const imports = files.map((path) => `import ${JSON.stringify(path)} with { type: "file" };\n`).join("");
  return {
    name: "boxd-embed-runtime-files",
    setup(build) {
      build.onLoad({ filter: /\/daemon\/main\.ts$/ }, async (args) => {
        if (args.path !== mainPath) return undefined;
        return { contents: imports + (await Bun.file(args.path).text()), loader: "ts" };
      });
    },
  };
}

/** Compiles the daemon to `outfile` and returns its size in bytes. */
export async function buildBinary(outfile = join(ROOT, "dist", "boxd")): Promise<number> {
  const mainPath = join(ROOT, "daemon", "main.ts");
  const result = await Bun.build({
    entrypoints: [mainPath, ...WORKER_ENTRY_POINTS.map((path) => join(ROOT, path))],
    root: ROOT,
    target: "bun",
    // Bytecode of ES modules needs format "esm": libxml2-wasm uses top-level await.
    format: "esm",
    minify: true,
    bytecode: true,
    sourcemap: "linked",
    // Every bundled module has its `import.meta.url` at the embedded root, so a
    // worker must sit there under its own name. Embedded files keep their folders.
    naming: { entry: "[name].[ext]", asset: "[dir]/[name].[ext]" },
    compile: { outfile, autoloadDotenv: false, autoloadBunfig: false },
    plugins: [embedRuntimeFiles(mainPath, runtimeFiles())],
  });
  if (!result.success) {
    throw new AggregateError(result.logs, `bun build of ${outfile} failed; see the build messages`);
  }

  return Bun.file(outfile).size;
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { outfile: { type: "string", default: join(ROOT, "dist", "boxd") } } });
  const outfile = resolve(values.outfile!);
  const started = performance.now();
  const size = await buildBinary(outfile);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`built ${relative(process.cwd(), outfile) || basename(outfile)}: ${size} bytes in ${seconds} s`);
}
