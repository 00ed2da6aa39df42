import { afterAll, describe, expect, test } from "bun:test";
import { checkVector, type ConformanceResult, KeyRing, listVectors } from "./conformance-check.ts";
import { DEVICE_KEY_DIR, ORG_KEYSTORE_PATH, RTDS_DIR } from "./fixtures.ts";

/**
 * Conformance of the GBCS codecs and crypto over every RTDS file: each decodes, re-encodes to the same bytes,
 * and its MAC and signature verify wherever the key ring contains a usable key. `BOXD_RTDS_DIR` points the suite
 * at a larger RTDS copy, and `BOXD_RTDS_KEYSTORE` at its device certificate folder.
 */
const root = process.env.BOXD_RTDS_DIR ?? RTDS_DIR;
const keyDir = process.env.BOXD_RTDS_KEYSTORE ?? DEVICE_KEY_DIR;
const files = listVectors(root);
const keys = new KeyRing(keyDir, ORG_KEYSTORE_PATH);
const results: ConformanceResult[] = [];

describe("RTDS conformance", () => {
  test("vector folder has files", () => {
    expect(files.length).toBeGreaterThan(0);
  });

  test.each(files.map((file) => [`${file.useCase}/${file.name}`, file] as const))("%s", (_name, file) => {
    const result = checkVector(file, keys);
    results.push(result);

    expect(result.error).toBeUndefined();
    expect(result.decoded).toBe(true);
    expect(result.reencoded).toBe(true);
    expect(result.mac?.status).not.toBe("failed");
    expect(result.signature?.status).not.toBe("failed");
    expect(result.decryption?.status).not.toBe("failed");
  });

  afterAll(() => {
    console.log(formatTable(results));
  });
});

/** Formats per-use-case counts as a Markdown table, with totals and the reasons checks were skipped. */
function formatTable(all: readonly ConformanceResult[]): string {
  const groups = new Map<string, ConformanceResult[]>();
  for (const result of all) {
    const key = `${result.file.useCase}\t${result.file.kind}`;
    groups.set(key, [...(groups.get(key) ?? []), result]);
  }

  const lines = [
    "| use case | kind | files | decoded | re-encoded | MAC verified | of which device side | signature verified | decrypted | crypto not checked |",
    "|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const [key, group] of [...groups].sort()) {
    const [useCase, kind] = key.split("\t");
    lines.push(`| ${useCase} | ${kind} | ${row(group)} |`);
  }
  for (const kind of ["COMMAND", "PRECOMMAND", "RESPONSE", "ALERT"]) {
    lines.push(`| **all** | ${kind} | ${row(all.filter((result) => result.file.kind === kind))} |`);
  }
  lines.push(`| **all** | **all** | ${row(all)} |`);

  const reasons = new Map<string, number>();
  for (const result of all) {
    for (const check of [result.mac, result.signature, result.decryption]) {
      if (check?.status === "unchecked") reasons.set(check.reason, (reasons.get(check.reason) ?? 0) + 1);
    }
  }
  lines.push("", "Checks not run, by reason:");
  for (const [reason, count] of [...reasons].sort()) lines.push(`- ${count} × ${reason}`);
  return lines.join("\n");
}

function row(group: readonly ConformanceResult[]): string {
  const count = (predicate: (result: ConformanceResult) => boolean) => group.filter(predicate).length;
  const ratio = (status: "mac" | "signature" | "decryption") => {
    const present = count((result) => result[status] !== undefined);
    return `${count((result) => result[status]?.status === "verified")}/${present}`;
  };
  const unchecked = count((result) =>
    [result.mac, result.signature, result.decryption].some((check) => check?.status === "unchecked"),
  );

  return [
    group.length,
    count((result) => result.decoded),
    count((result) => result.reencoded),
    ratio("mac"),
    count((result) => result.mac?.status === "verified" && result.mac.deviceSide === true),
    ratio("signature"),
    ratio("decryption"),
    unchecked,
  ].join(" | ");
}
