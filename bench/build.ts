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
import { readdirSync, rmSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { BunPlugin } from "bun";

const ROOT = resolve(import.meta.dir, "..");

/** Source-tree folders whose files the daemon reads at run time; every file in them is embedded. */
export const RUNTIME_FOLDERS = ["daemon/duis/schema", "provisioning/trust/zaz1", "provisioning/trust/rtds"];

/** Lists the runtime files to embed, as absolute paths. */
export function runtimeFiles(root = ROOT): string[] {
  return RUNTIME_FOLDERS.flatMap((folder) =>
    readdirSync(join(root, folder))
      .sort()
      .map((name) => join(root, folder, name)),
  );
}

/**
 * Makes Bun embed each runtime file as raw bytes. Without it, an entry point
 * such as `keystore.json` would be bundled as a JavaScript module and its
 * file would be missing from the embedded file system.
 */
function embedRaw(files: ReadonlySet<string>): BunPlugin {
  return {
    name: "boxd-embed-runtime-files",
    setup(build) {
      build.onLoad({ filter: /\/(daemon\/duis\/schema|provisioning\/trust)\// }, async (args) => {
        if (!files.has(args.path)) return undefined;
        return { contents: await Bun.file(args.path).bytes(), loader: "file" };
      });
    },
  };
}

/** Compiles the daemon to `outfile` and returns its size in bytes. */
export async function buildBinary(outfile = join(ROOT, "dist", "boxd")): Promise<number> {
  const files = runtimeFiles();
  const result = await Bun.build({
    entrypoints: [join(ROOT, "daemon", "main.ts"), ...files],
    root: ROOT,
    target: "bun",
    // Bytecode of ES modules needs format "esm": libxml2-wasm uses top-level await.
    format: "esm",
    minify: true,
    bytecode: true,
    sourcemap: "linked",
    // The hash keeps the small loader modules of `x.key` and `x.pem` apart; the embedded files keep their names.
    naming: { entry: "[dir]/[name]-[hash].[ext]", asset: "[dir]/[name].[ext]" },
    compile: { outfile, autoloadDotenv: false, autoloadBunfig: false },
    plugins: [embedRaw(new Set(files))],
  });
  if (!result.success) {
    throw new AggregateError(result.logs, `bun build of ${outfile} failed; see the build messages`);
  }

  // Source maps of the runtime files' loader modules are of no use beside the binary.
  const outputFolder = dirname(outfile);
  for (const output of result.outputs) {
    if (output.path.endsWith(".js.map") && dirname(output.path) === outputFolder) rmSync(output.path, { force: true });
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
