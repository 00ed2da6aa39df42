/**
 * DUIS gateway benchmark: signed 8.2 Read Inventory requests per second and
 * p50/p99 latency through a real boxd process over loopback, with several
 * concurrent clients; in the same run, boxd's crypto floor (one signature
 * verification plus one signing alone) and the reference Java signing
 * stack's validate+sign rate. Appends nothing by itself: it prints a
 * Markdown section for docs/benchmarks.md.
 *
 * Usage: bun bench/duis-gateway.ts [--requests N] [--clients C] [--java-seconds S]
 * Set BOXD_BENCH_PROFILE=FOLDER to write a CPU profile of the daemon there.
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify } from "node:crypto";
import { cpus, totalmem } from "node:os";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { CertificateLibrary } from "../daemon/duis/certificates.ts";
import { NS } from "../daemon/duis/constants.ts";
import { signCanonicalDocument, verifyEnvelopedSignature } from "../daemon/duis/signature.ts";
import { duisValidator, parseUntrusted } from "../daemon/duis/xml.ts";

const ROOT = resolve(import.meta.dir, "..");
const ZAZ1 = join(ROOT, "provisioning", "trust", "zaz1");

const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "8000" },
    clients: { type: "string", default: "4" },
    "java-seconds": { type: "string", default: "10" },
  },
});
const REQUESTS = Number(values.requests);
const CLIENTS = Number(values.clients);
const JAVA_SECONDS = Number(values["java-seconds"]);

/** The users the clients sign as, one per client, so each keeps its own counter order. */
const USERS = [
  { eui: "90-B3-D5-1F-30-01-00-00", key: "xml-sign-90B3D51F30010000-ds", serial: "27572613927499351639968579586655397031" },
  { eui: "90-B3-D5-1F-30-02-00-00", key: "xml-sign-90B3D51F30020000-ds", serial: "40938316298935008147424226388667426413" },
  { eui: "00-DB-12-34-56-78-00-04", key: "xml-sign-00DB123456780004-ds", serial: "37250744094852421200045328576547436839" },
  { eui: "90-B3-D5-1F-30-03-00-00", key: "Z1-supplier2-ds", serial: "76986165265641917001207597343644863443" },
];

function readKey(name: string) {
  return createPrivateKey({ key: readFileSync(join(ZAZ1, `${name}.key`)), format: "der", type: "pkcs8" });
}

/** Builds a signed 8.2 request in canonical form, as a DUIS client would send it. */
function signedReadInventory(user: (typeof USERS)[number], counter: number, privateKey: ReturnType<typeof readKey>): string {
  const canonical =
    `<sr:Request xmlns:sr="${NS.sr}" schemaVersion="5.4"><sr:Header>` +
    `<sr:RequestID>${user.eui}:90-B3-D5-1F-30-00-00-02:${counter}</sr:RequestID><sr:CommandVariant>8</sr:CommandVariant>` +
    `<sr:ServiceReference>8.2</sr:ServiceReference><sr:ServiceReferenceVariant>8.2</sr:ServiceReferenceVariant></sr:Header>` +
    `<sr:Body><sr:ReadInventory><sr:DeviceID>00-DB-12-34-56-78-90-A2</sr:DeviceID></sr:ReadInventory></sr:Body></sr:Request>`;
  return signCanonicalDocument(canonical, { privateKey, issuerName: "CN=Z1,OU=07", serial: user.serial });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Starts boxd as its own process and returns its DUIS port once it logs "boxd ready". */
async function startDaemon(state: string): Promise<{ port: number; process: ReturnType<typeof Bun.spawn> }> {
  const profile = process.env.BOXD_BENCH_PROFILE ? ["--cpu-prof-md", `--cpu-prof-dir=${process.env.BOXD_BENCH_PROFILE}`] : [];
  const child = Bun.spawn([process.execPath, ...profile, join(ROOT, "daemon", "main.ts")], {
    env: {
      ...process.env,
      BOXD_STATE_DIRECTORY: state,
      BOXD_DUIS_HOST: "127.0.0.1",
      BOXD_DUIS_PORT: "0",
      BOXD_SMKI_HOST: "127.0.0.1",
      BOXD_SMKI_PORT: "0",
      BOXD_ADMIN_PORT: "0",
    },
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = child.stdout.getReader();
  let buffered = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) throw new Error("boxd exited before it was ready");
    buffered += new TextDecoder().decode(value);
    const ready = buffered.split("\n").find((line) => line.includes('"boxd ready"'));
    if (ready) {
      void (async () => {
        while (!(await reader.read()).done);
      })();
      return { port: JSON.parse(ready).duisPort, process: child };
    }
  }
}

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  // utime and stime are fields 14 and 15 of /proc/PID/stat, in clock ticks of 1/100 s.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function gatewayRun(port: number, pid: number): Promise<{ rate: number; p50: number; p99: number; seconds: number; cpuMicroseconds: number }> {
  const keys = USERS.map((user) => readKey(user.key));
  const perClient = Math.ceil(REQUESTS / CLIENTS);
  const base = Date.now();
  const bodies = Array.from({ length: CLIENTS }, (_, client) =>
    Array.from({ length: perClient }, (_, i) => signedReadInventory(USERS[client % USERS.length]!, base + i, keys[client % USERS.length]!)),
  );

  // Warm-up: one request per client, with counters below the measured ones.
  for (let client = 0; client < CLIENTS; client++) {
    const warm = signedReadInventory(USERS[client]!, base - 1, keys[client]!);
    await fetch(`http://127.0.0.1:${port}/api/v1/serviceD`, { method: "POST", headers: { "Content-Type": "application/xml" }, body: warm });
  }

  const latencies: number[] = [];
  const cpuBefore = cpuSeconds(pid);
  const started = performance.now();
  await Promise.all(
    bodies.map(async (clientBodies) => {
      for (const body of clientBodies) {
        const sent = performance.now();
        const response = await fetch(`http://127.0.0.1:${port}/api/v1/serviceD`, {
          method: "POST",
          headers: { "Content-Type": "application/xml" },
          body,
        });
        const text = await response.text();
        latencies.push(performance.now() - sent);
        if (!text.includes("<sr:ResponseCode>I0</sr:ResponseCode>")) throw new Error(`expected an I0 response, got: ${text.slice(0, 400)}`);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpuMicroseconds = ((cpuSeconds(pid) - cpuBefore) * 1e6) / latencies.length;
  latencies.sort((a, b) => a - b);
  return { rate: latencies.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), seconds, cpuMicroseconds };
}

/**
 * boxd's signature floor: its XML-DSig verification of one parsed request
 * (canonicalization, digest, ECDSA verify) plus the signing of one response
 * (digest, ECDSA sign), with no parsing, schema or emulation around them.
 */
function signatureFloor(request: string, response: string): { rate: number; microseconds: number } {
  duisValidator();
  const library = CertificateLibrary.fromFolder(ZAZ1);
  const signer = { privateKey: readKey("dsp-xml-sign-90B3D51F30000002-ds"), issuerName: "CN=Z1,OU=07", serial: "1" };
  const requestBytes = new TextEncoder().encode(request);
  const canonicalResponse = response.replace(/^<\?xml[^>]*>/, "").replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, "");
  const documents = Array.from({ length: 64 }, () => parseUntrusted(requestBytes));

  let verifyTime = 0;
  let signTime = 0;
  let count = 0;
  for (let round = 0; verifyTime + signTime < 3000; round++) {
    const verifyStarted = performance.now();
    for (const doc of documents) verifyEnvelopedSignature(doc, library);
    verifyTime += performance.now() - verifyStarted;
    const signStarted = performance.now();
    for (let i = 0; i < documents.length; i++) signCanonicalDocument(canonicalResponse, signer);
    signTime += performance.now() - signStarted;
    count += documents.length;
    for (const doc of documents.splice(0)) doc.dispose();
    for (let i = 0; i < 64; i++) documents.push(parseUntrusted(requestBytes));
  }
  for (const doc of documents) doc.dispose();
  const microseconds = ((verifyTime + signTime) * 1000) / count;
  return { rate: 1e6 / microseconds, microseconds };
}

/** Measures one ECDSA P-256 verification plus one signing, with the SHA-256 digests they need, over DUIS-sized inputs. */
function cryptoFloor(request: string): { rate: number; microseconds: number } {
  const privateKey = readKey("dsp-xml-sign-90B3D51F30000002-ds");
  const publicKey = createPublicKey(privateKey);
  const signedInfo = Buffer.from(/<ds:SignedInfo>[\s\S]*<\/ds:SignedInfo>/.exec(request)![0]);
  const document = Buffer.from(request);
  const signature = sign("sha256", signedInfo, { key: privateKey, dsaEncoding: "ieee-p1363" });

  const deadline = performance.now() + 3000;
  let count = 0;
  const started = performance.now();
  while (performance.now() < deadline) {
    createHash("sha256").update(document).digest();
    if (!verify("sha256", signedInfo, { key: publicKey, dsaEncoding: "ieee-p1363" }, signature)) throw new Error("floor verify failed");
    createHash("sha256").update(document).digest();
    sign("sha256", signedInfo, { key: privateKey, dsaEncoding: "ieee-p1363" });
    count++;
  }
  const seconds = (performance.now() - started) / 1000;
  return { rate: count / seconds, microseconds: (seconds * 1e6) / count };
}

/** Compiles and runs the Java reference, or returns undefined when javac is missing. */
async function javaReference(signedRequest: string, response: string): Promise<number | undefined> {
  if (!Bun.which("javac") || !Bun.which("java")) return undefined;
  const jar = join(dirname(require.resolve("@smartdcc/duis-sign-wrap")), "tool.jar");
  const work = mkdtempSync(join(tmpdir(), "boxd-bench-java-"));
  try {
    const compile = Bun.spawnSync(["javac", "-cp", jar, "-d", work, join(import.meta.dir, "java", "ValidateSignBench.java")]);
    if (compile.exitCode !== 0) throw new Error(`javac failed: ${compile.stderr.toString()}`);
    writeFileSync(join(work, "request.xml"), signedRequest);
    writeFileSync(join(work, "response.xml"), response);
    const run = Bun.spawnSync(
      ["java", "-cp", `${jar}:${work}`, "ValidateSignBench", join(work, "request.xml"), join(work, "response.xml"), "5", String(JAVA_SECONDS)],
      { stderr: "pipe" },
    );
    const match = /validate\+sign\/s ([\d.]+)/.exec(run.stdout.toString());
    if (!match) throw new Error(`Java reference failed: ${run.stdout}${run.stderr}`);
    return Number(match[1]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const state = mkdtempSync(join(tmpdir(), "boxd-bench-state-"));
try {
  const daemon = await startDaemon(state);
  const gateway = await gatewayRun(daemon.port, daemon.process.pid);

  // A signed request and an unsigned response for the Java reference, from this run.
  const sample = signedReadInventory(USERS[0]!, 1, readKey(USERS[0]!.key));
  const answer = await (
    await fetch(`http://127.0.0.1:${daemon.port}/api/v1/serviceD`, { method: "POST", headers: { "Content-Type": "application/xml" }, body: sample })
  ).text();
  daemon.process.kill("SIGTERM");
  await daemon.process.exited;

  const floor = cryptoFloor(sample);
  const xmlFloor = signatureFloor(sample, answer);
  const unsignedRequest = sample.replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, "");
  const java = await javaReference(sample, unsignedRequest);

  const cpu = cpus()[0]?.model ?? "unknown CPU";
  const lines = [
    `Machine: ${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Bun ${Bun.version}.`,
    `Command: \`bun bench/duis-gateway.ts --requests ${REQUESTS} --clients ${CLIENTS} --java-seconds ${JAVA_SECONDS}\` (${new Date().toISOString().slice(0, 10)}).`,
    "",
    "| measure | value |",
    "|---|---|",
    `| gateway: signed 8.2 requests/s (${CLIENTS} clients, ${REQUESTS} requests, client and daemon on the same cores) | ${gateway.rate.toFixed(0)} |`,
    `| gateway latency p50 / p99 | ${gateway.p50.toFixed(2)} ms / ${gateway.p99.toFixed(2)} ms |`,
    `| daemon CPU time per request (user + system, from /proc) | ${gateway.cpuMicroseconds.toFixed(0)} µs |`,
    `| boxd signature floor: XML-DSig verify of a parsed request + signing of a response, per second | ${xmlFloor.rate.toFixed(0)} (${xmlFloor.microseconds.toFixed(1)} µs each) |`,
    `| daemon CPU per request / signature floor | ${(gateway.cpuMicroseconds / xmlFloor.microseconds).toFixed(2)}× |`,
    `| crypto primitives alone: 1 ECDSA P-256 verify + 1 sign with their SHA-256 digests, per second | ${floor.rate.toFixed(0)} (${floor.microseconds.toFixed(1)} µs each) |`,
    java === undefined
      ? "| reference Java stack validate+sign/s | not measured: javac missing |"
      : `| reference Java stack (DCC Boxed signing tool) validate+sign/s, one warm JVM | ${java.toFixed(0)} |`,
    java === undefined ? "" : `| gateway requests/s / Java validate+sign/s | ${(gateway.rate / java).toFixed(2)}× |`,
    java === undefined ? "" : `| Java µs per validate+sign / daemon CPU µs per request | ${(1e6 / java / gateway.cpuMicroseconds).toFixed(2)}× |`,
  ];
  console.log(lines.filter((line, i) => line !== "" || i === 2).join("\n"));
} finally {
  rmSync(state, { recursive: true, force: true });
}
