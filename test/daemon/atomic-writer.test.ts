import { describe, expect, test } from "bun:test";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AtomicWriter } from "../../daemon/state/atomic-writer.ts";
import { tempFolder } from "../support/harness.ts";

describe("atomic writer thread", () => {
  test("writes the file and leaves no temp file", async () => {
    using folder = tempFolder("writer");
    const writer = new AtomicWriter();
    try {
      await writer.write(join(folder.path, "state.json"), '{"a":1}\n');

      expect(readFileSync(join(folder.path, "state.json"), "utf8")).toBe('{"a":1}\n');
      expect(readdirSync(folder.path)).toEqual(["state.json"]);
    } finally {
      writer.close();
    }
  });

  test("rejects a write whose folder is a file", async () => {
    using folder = tempFolder("writer-bad");
    writeFileSync(join(folder.path, "plain"), "");
    const writer = new AtomicWriter();
    try {
      await expect(writer.write(join(folder.path, "plain", "state.json"), "{}")).rejects.toThrow("EEXIST: file already exists, mkdir");
    } finally {
      writer.close();
    }
  });
});
