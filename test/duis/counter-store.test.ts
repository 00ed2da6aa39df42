import { describe, expect, test } from "bun:test";
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { COUNTER_JOURNAL_MAX_RECORDS, CounterStore } from "../../daemon/duis/counter-store.ts";
import type { Eui } from "../../daemon/duis/eui.ts";
import { tempFolder } from "../support/harness.ts";

const SUPPLIER = "90B3D51F30010000" as Eui;
const ESME = "00DB1234567890A0" as Eui;

describe("counter store", () => {
  test("journal survives a restart without close", async () => {
    using folder = tempFolder("counters-journal");
    const path = join(folder.path, "duis-counters.json");
    const first = new CounterStore(path);
    expect(await first.checkAndAccept(SUPPLIER, ESME, 100n, 1)).toBeUndefined();
    expect(await first.checkAndAccept(SUPPLIER, ESME, 200n, 4)).toBeUndefined();

    // No close: as after a power cut, only the journal has the records.
    const second = new CounterStore(path);

    expect(await second.checkAndAccept(SUPPLIER, ESME, 200n, 1)).toBe(`RequestID counter 200 from ${SUPPLIER} is not greater than the last accepted 200`);
    expect(await second.checkAndAccept(SUPPLIER, ESME, 200n, 5)).toBeUndefined();
    second.close();
  });

  test("torn last line is dropped and overwritten", async () => {
    using folder = tempFolder("counters-torn");
    const path = join(folder.path, "duis-counters.json");
    const first = new CounterStore(path);
    await first.checkAndAccept(SUPPLIER, ESME, 100n, 1);
    appendFileSync(`${path}.journal`, `${SUPPLIER} ${ESME} 999 1 0000`);

    const second = new CounterStore(path);
    expect(await second.checkAndAccept(SUPPLIER, ESME, 101n, 1)).toBeUndefined();

    const lines = readFileSync(`${path}.journal`, "utf8").trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[1]).toStartWith(`${SUPPLIER} ${ESME} 101 1 `);
    second.close();
  });

  test("line with a wrong CRC stops the replay", async () => {
    using folder = tempFolder("counters-crc");
    const path = join(folder.path, "duis-counters.json");
    const first = new CounterStore(path);
    await first.checkAndAccept(SUPPLIER, ESME, 100n, 1);
    appendFileSync(`${path}.journal`, `${SUPPLIER} ${ESME} 500 1 deadbeef\n`);

    const second = new CounterStore(path);

    expect(await second.checkAndAccept(SUPPLIER, ESME, 300n, 1)).toBeUndefined();
    second.close();
  });

  test("close writes a snapshot and empties the journal", async () => {
    using folder = tempFolder("counters-close");
    const path = join(folder.path, "duis-counters.json");
    const store = new CounterStore(path);
    await store.checkAndAccept(SUPPLIER, ESME, 7n, 1);

    store.close();

    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual({ last: { [SUPPLIER]: "7" }, openTransforms: [] });
    expect(readFileSync(`${path}.journal`, "utf8")).toBe("");
  });

  test("journal is compacted at its record limit", async () => {
    using folder = tempFolder("counters-compact");
    const path = join(folder.path, "duis-counters.json");
    const store = new CounterStore(path);

    await Promise.all(Array.from({ length: COUNTER_JOURNAL_MAX_RECORDS }, (_, i) => store.checkAndAccept(SUPPLIER, ESME, BigInt(i + 1), 1)));

    expect(existsSync(path)).toBe(true);
    expect(JSON.parse(readFileSync(path, "utf8")).last[SUPPLIER]).toBe(String(COUNTER_JOURNAL_MAX_RECORDS));
    expect(readFileSync(`${path}.journal`, "utf8")).toBe("");
    store.close();
  });
});
