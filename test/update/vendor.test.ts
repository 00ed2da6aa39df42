import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UpdateClient } from "../../update/client/client.ts";
import { HttpFetcher } from "../../update/client/fetcher.ts";
import { TrustedMetadataSet } from "../../update/tuf/trusted-set.ts";
import { run } from "../../update/vendor/main.ts";
import { HARDWARE_ID, RepoServer } from "./harness.ts";

let folder = "";

afterEach(() => {
  if (folder !== "") rmSync(folder, { recursive: true, force: true });
  folder = "";
});

/** Runs the tool in-process and returns its exit code and output lines. */
function tool(...argv: string[]): { code: number; out: string; err: string } {
  const out: string[] = [];
  const err: string[] = [];
  const code = run(argv, (line) => out.push(line), (line) => err.push(line));
  return { code, out: out.join("\n"), err: err.join("\n") };
}

function privateKeysOf(repo: string): string[] {
  const keys = join(repo, "keys");
  return readdirSync(keys)
    .filter((name) => name.endsWith(".key.json"))
    .map((name) => JSON.parse(readFileSync(join(keys, name), "utf8")).privateKey as string);
}

describe("vendor tool", () => {
  test("--help runs as a process", () => {
    const result = Bun.spawnSync([process.execPath, "update/vendor/main.ts", "--help"], { cwd: join(import.meta.dir, "..", "..") });

    expect(result.exitCode).toBe(0);
    expect(result.stdout.toString()).toContain("add-config-patch");
  });

  test("init writes keys with mode 0600 and prints no key", () => {
    folder = mkdtempSync(join(tmpdir(), "boxd-vendor-"));
    const repo = join(folder, "repo");

    const result = tool("init", "--repo", repo, "--root-keys", "3", "--root-threshold", "2");

    const keyFiles = readdirSync(join(repo, "keys")).filter((name) => name.endsWith(".key.json"));
    expect(result.code).toBe(0);
    expect(keyFiles).toHaveLength(6);
    for (const name of keyFiles) {
      expect({ name, mode: statSync(join(repo, "keys", name)).mode & 0o777 }).toEqual({ name, mode: 0o600 });
    }
    for (const secret of privateKeysOf(repo)) {
      expect(result.out).not.toContain(secret);
    }
  });

  test.each([
    [["init"], 2, "Missing --repo."],
    [["publish", "--repo", "/nonexistent-boxd-repo"], 1, "Invalid folder"],
    [["frobnicate", "--repo", "x"], 2, 'Unknown command "frobnicate".'],
    [["init", "--repo", "x", "--key-type", "rsa"], 2, "--key-type must be one of ed25519, ecdsa"],
  ])("%p exits %p", (argv, code, message) => {
    const result = tool(...(argv as string[]));

    expect(result.code).toBe(code as number);
    expect(result.err).toContain(message as string);
  });

  test("release, rotation and revocation reach a client", async () => {
    folder = mkdtempSync(join(tmpdir(), "boxd-vendor-"));
    const repo = join(folder, "repo");
    const image = join(folder, "boxd-2.4.0.img");
    const patch = join(folder, "duis-5.1-gbcs-4.0.json");
    writeFileSync(image, "image 2.4.0\n");
    writeFileSync(patch, '{"patch":1}\n');
    const common = ["--channel", "current", "--hardware-id", HARDWARE_ID, "--duis", "5.1", "--gbcs", "4.0"];

    const steps = [
      tool("init", "--repo", repo),
      tool("add-release", "--repo", repo, "--file", image, "--version", "2.4.0", "--counter", "24", ...common),
      tool("add-config-patch", "--repo", repo, "--file", patch, "--version", "1.0.0", "--counter", "1", ...common),
      tool("rotate-keys", "--repo", repo, "--role", "root", "--keys", "2", "--threshold", "2"),
      tool("publish", "--repo", repo),
    ];
    const server = new RepoServer(join(repo, "public"));
    const clientFolder = join(folder, "client");
    UpdateClient.initialize(clientFolder, new Uint8Array(readFileSync(join(repo, "public", "metadata", "1.root.json"))));
    const client = new UpdateClient({
      folder: clientFolder,
      metadataBaseUrl: `${server.baseUrl}/metadata`,
      targetBaseUrl: `${server.baseUrl}/targets`,
      device: { hardwareId: HARDWARE_ID, duisVersions: ["5.1"], gbcsVersions: ["4.0"] },
      running: { version: "2.3.1", counter: 23 },
      fetcher: new HttpFetcher({ requestTimeoutMs: 5_000 }),
    });

    try {
      const before = await client.check();
      const patches = await client.planConfigPatches();
      const plan = await client.plan();
      if (plan.action !== "install") throw new Error(`expected an install plan, got ${plan.action}`);
      const imageBytes = await fetch(plan.target.url).then((response) => response.text());
      const revoke = tool("revoke", "--repo", repo, "--version", "2.4.0", "--reason", "corrupts meter data");
      tool("publish", "--repo", repo);
      const after = await client.check();

      expect(steps.map((step) => step.code)).toEqual([0, 0, 0, 0, 0]);
      expect(JSON.parse(readFileSync(join(clientFolder, "root.json"), "utf8")).signed.version).toBe(2);
      expect(before.latest?.version).toBe("2.4.0");
      expect(patches.map((item) => item.name)).toEqual(["current/duis-5.1-gbcs-4.0.json"]);
      expect(imageBytes).toBe("image 2.4.0\n");
      expect(revoke.code).toBe(0);
      expect(after.latest).toBeUndefined();
      expect(after.decision).toEqual({ action: "none", reason: "channel-empty" });
    } finally {
      server.stop();
    }
  });

  test.each([
    { name: "full release, same channel", second: ["add-release", "--counter", "2", "--channel", "current"], code: 1 },
    { name: "config patch, same pair", second: ["add-config-patch", "--counter", "3", "--channel", "current"], code: 1 },
    { name: "full release, other channel", second: ["add-release", "--counter", "2", "--channel", "upcoming"], code: 0 },
    { name: "config patch, other pair", second: ["add-config-patch", "--counter", "3", "--channel", "current", "--duis", "5.4"], code: 0 },
    { name: "full and patch share", second: ["add-config-patch", "--counter", "2", "--channel", "current"], code: 0 },
  ])("duplicate counter: $name", ({ second, code }) => {
    folder = mkdtempSync(join(tmpdir(), "boxd-vendor-"));
    const repo = join(folder, "repo");
    for (const name of ["boxd-1.1.0.img", "boxd-1.1.5.img", "patch-a.json", "patch-b.json"]) writeFileSync(join(folder, name), name);
    const device = ["--hardware-id", HARDWARE_ID, "--gbcs", "4.0"];
    tool("init", "--repo", repo);
    tool("add-release", "--repo", repo, "--file", join(folder, "boxd-1.1.0.img"), "--version", "1.1.0", "--counter", "2", "--channel", "current", "--duis", "5.1", ...device);
    tool("add-config-patch", "--repo", repo, "--file", join(folder, "patch-a.json"), "--version", "1.0.0", "--counter", "3", "--channel", "current", "--duis", "5.1", ...device);
    const [command = "", ...options] = second as readonly string[];
    const file = command === "add-release" ? "boxd-1.1.5.img" : "patch-b.json";

    const result = tool(command, "--repo", repo, "--file", join(folder, file), "--version", "1.1.5", ...options, ...(options.includes("--duis") ? [] : ["--duis", "5.1"]), ...device);

    expect(result.code).toBe(code);
    if (code === 1) {
      expect(result.err).toContain(`Invalid counter "${options[1]}"`);
      expect(result.err).toContain("Counters are unique per channel");
    }
  });

  test.each([0o022, 0o077, 0o027])("published modes ignore umask %o", (umask) => {
    folder = mkdtempSync(join(tmpdir(), "boxd-vendor-"));
    const repo = join(folder, "repo");
    const image = join(folder, "boxd-1.0.0.img");
    writeFileSync(image, "image");
    const previous = process.umask(umask);
    try {
      expect(tool("init", "--repo", repo).code).toBe(0);
      expect(tool("add-release", "--repo", repo, "--file", image, "--version", "1.0.0", "--counter", "1", "--channel", "current", "--hardware-id", HARDWARE_ID, "--duis", "5.4", "--gbcs", "4.2").code).toBe(0);
      expect(tool("publish", "--repo", repo).code).toBe(0);
      expect(tool("rotate-keys", "--repo", repo, "--role", "timestamp").code).toBe(0);
    } finally {
      process.umask(previous);
    }
    const modeOf = (path: string) => statSync(path).mode & 0o777;
    const metadata = join(repo, "public", "metadata");

    expect(modeOf(repo)).toBe(0o755);
    expect(modeOf(join(repo, "public"))).toBe(0o755);
    expect(modeOf(metadata)).toBe(0o755);
    expect(modeOf(join(repo, "public", "targets"))).toBe(0o755);
    expect(modeOf(join(repo, "public", "targets", "current"))).toBe(0o755);
    for (const name of readdirSync(metadata)) {
      expect({ name, mode: modeOf(join(metadata, name)) }).toEqual({ name, mode: 0o644 });
    }
    const target = readdirSync(join(repo, "public", "targets", "current"))[0] ?? "";
    expect(modeOf(join(repo, "public", "targets", "current", target))).toBe(0o644);
    expect(modeOf(join(repo, "keys"))).toBe(0o700);
    for (const name of readdirSync(join(repo, "keys")).filter((entry) => entry.endsWith(".json"))) {
      expect({ name, mode: modeOf(join(repo, "keys", name)) }).toEqual({ name, mode: 0o600 });
    }
    expect(modeOf(join(repo, "repository.json"))).toBe(0o600);
  });

  test("root rotation is cross-signed by old and new keys", () => {
    folder = mkdtempSync(join(tmpdir(), "boxd-vendor-"));
    const repo = join(folder, "repo");
    tool("init", "--repo", repo, "--root-keys", "2", "--root-threshold", "2");
    tool("rotate-keys", "--repo", repo, "--role", "root", "--keys", "3", "--threshold", "2");
    const metadata = join(repo, "public", "metadata");

    const trusted = new TrustedMetadataSet(new Uint8Array(readFileSync(join(metadata, "1.root.json"))), new Date());
    const root2 = trusted.updateRoot(new Uint8Array(readFileSync(join(metadata, "2.root.json"))));

    expect(root2.signatures).toHaveLength(5);
    expect(root2.signed.roles.root.keyids).toHaveLength(3);
    expect(readdirSync(join(repo, "keys", "retired"))).toHaveLength(2);
  });
});
