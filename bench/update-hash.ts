/**
 * Measures SHA-256 throughput of an update download over loopback against
 * `openssl dgst -sha256` and `sha256sum` on the same file, and the peak RSS
 * of the process that installs the update.
 *
 * Usage: bun bench/update-hash.ts [size in MiB, default 1024]
 *
 * The image is random bytes in a temp folder, served by a child process
 * (`Bun.serve` on 127.0.0.1, port 0) so the server's memory and CPU are not
 * counted here. Every file is deleted at the end.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { randomFillSync } from "node:crypto";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { setLogLevel } from "../daemon/log.ts";
import { installUpdate } from "../update/install/install.ts";
import { sha256File } from "../update/install/hash.ts";

const MiB = 1024 * 1024;

if (process.argv[2] === "--serve") {
  const file = process.argv[3]!;
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response(Bun.file(file)) });
  console.log(server.port);
} else {
  await main(Number(process.argv[2] ?? 1024));
}

function vmKiB(field: "VmHWM" | "VmRSS"): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync("/proc/self/status", "utf8"));
  return Number(match?.[1] ?? NaN);
}

function timeCommand(command: string[]): { seconds: number; output: string } {
  const start = performance.now();
  const result = Bun.spawnSync(command, { stdout: "pipe", stderr: "pipe" });
  const seconds = (performance.now() - start) / 1000;
  if (result.exitCode !== 0) {
    throw new Error(`${command.join(" ")} failed: ${result.stderr.toString()}`);
  }
  return { seconds, output: result.stdout.toString() };
}

function rate(bytes: number, seconds: number): string {
  return `${(bytes / seconds / 1e6).toFixed(0)} MB/s`;
}

async function main(sizeMiB: number): Promise<void> {
  setLogLevel("silent");
  const folder = mkdtempSync(join(tmpdir(), "boxd-bench-hash-"));
  const imagePath = join(folder, "image.bin");
  const bytes = sizeMiB * MiB;
  let stopServer = () => {};

  try {
    const fd = openSync(imagePath, "w");
    const block = Buffer.allocUnsafe(MiB);
    for (let i = 0; i < sizeMiB; i++) {
      randomFillSync(block);
      writeSync(fd, block);
    }
    closeSync(fd);

    const openssl = timeCommand(["openssl", "dgst", "-sha256", "-r", imagePath]);
    const coreutils = timeCommand(["sha256sum", imagePath]);
    const start = performance.now();
    const ours = sha256File(imagePath);
    const oursSeconds = (performance.now() - start) / 1000;
    const expected = openssl.output.split(" ")[0]!;
    if (ours.sha256 !== expected || !coreutils.output.startsWith(expected)) {
      throw new Error("digests differ between openssl, sha256sum and sha256File");
    }

    const server = Bun.spawn([process.execPath, import.meta.path, "--serve", imagePath], { stdout: "pipe" });
    stopServer = () => server.kill();
    const reader = server.stdout.getReader();
    const port = Number(new TextDecoder().decode((await reader.read()).value).trim());
    reader.releaseLock();
    const url = `http://127.0.0.1:${port}/image.bin`;

    // Stream and hash only, to separate network and hash from the disk write.
    const streamStart = performance.now();
    const hasher = new Bun.CryptoHasher("sha256");
    const response = await fetch(url);
    let hashMs = 0;
    for await (const chunk of response.body!) {
      const before = performance.now();
      hasher.update(chunk);
      hashMs += performance.now() - before;
    }
    const streamSeconds = (performance.now() - streamStart) / 1000;
    if (hasher.digest("hex") !== expected) {
      throw new Error("streamed digest differs");
    }

    // Writing 5 to clear_refs resets VmHWM (Linux 4.0 and later), so the
    // peak below belongs to the install alone.
    const stateDir = join(folder, "state");
    const peakBefore = vmKiB("VmHWM");
    writeFileSync("/proc/self/clear_refs", "5");
    const rssBefore = vmKiB("VmRSS");
    const installStart = performance.now();
    await installUpdate(stateDir, { name: "image.bin", url, length: bytes, sha256: expected, custom: { version: "bench" } });
    const installSeconds = (performance.now() - installStart) / 1000;
    const peak = vmKiB("VmHWM");

    const cpu = cpus()[0]?.model ?? "unknown";
    console.log(`machine: ${cpus().length} CPUs, ${cpu}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM; Bun ${Bun.version}`);
    console.log(`image: ${sizeMiB} MiB random bytes`);
    console.log("| measurement | seconds | throughput |");
    console.log("|---|---|---|");
    console.log(`| \`openssl dgst -sha256\` on the file | ${openssl.seconds.toFixed(2)} | ${rate(bytes, openssl.seconds)} |`);
    console.log(`| \`sha256sum\` on the file | ${coreutils.seconds.toFixed(2)} | ${rate(bytes, coreutils.seconds)} |`);
    console.log(`| \`sha256File\` (1 MiB readSync loop + Bun.CryptoHasher) on the file | ${oursSeconds.toFixed(2)} | ${rate(bytes, oursSeconds)} |`);
    console.log(`| loopback fetch + Bun.CryptoHasher, no disk write (wall time) | ${streamSeconds.toFixed(2)} | ${rate(bytes, streamSeconds)} |`);
    console.log(`| time inside \`hasher.update()\` during that download | ${(hashMs / 1000).toFixed(2)} | ${rate(bytes, hashMs / 1000)} |`);
    console.log(`| \`installUpdate\`: loopback fetch + hash + write + fsync + move into slot | ${installSeconds.toFixed(2)} | ${rate(bytes, installSeconds)} |`);
    console.log(`peak RSS before the install (VmHWM): ${(peakBefore / 1024).toFixed(0)} MiB`);
    console.log(`RSS when the install starts: ${(rssBefore / 1024).toFixed(0)} MiB; peak RSS during the install (VmHWM after reset): ${(peak / 1024).toFixed(0)} MiB`);
  } finally {
    stopServer();
    rmSync(folder, { recursive: true, force: true });
  }
}
