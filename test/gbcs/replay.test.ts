import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  buildCommand,
  buildResponse,
  CommandCounterRule,
  CounterFileError,
  GbcsReplayError,
  GbcsUsageError,
  type GeneralSigning,
  loadCommandCounters,
  parseEui64,
  saveCommandCounters,
} from "../../daemon/gbcs/index.ts";
import { caught, ESME_A0, SUPPLIER } from "./fixtures.ts";

const temp = mkdtempSync(join(tmpdir(), "boxd-gbcs-replay-"));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const NETWORK_OPERATOR = "90B3D51F30020000";
const GSME_A1 = "00DB1234567890A1";

function command(counter: bigint, originator = SUPPLIER, recipient = ESME_A0): GeneralSigning {
  return buildCommand({
    originator: parseEui64(originator),
    recipient: parseEui64(recipient),
    counter,
    messageCode: 0x0059,
    content: Uint8Array.of(0xd9),
  });
}

describe("command counter rule", () => {
  test("accepts increasing counters", () => {
    const rule = new CommandCounterRule();

    rule.accept(command(1000n));
    rule.accept(command(1001n));

    expect(rule.lastAccepted(parseEui64(ESME_A0), parseEui64(SUPPLIER))).toBe(1001n);
  });

  test.each([
    ["equal counter", 1000n],
    ["lower counter", 999n],
  ])("rejects an %s", (_name, counter) => {
    const rule = new CommandCounterRule();
    rule.accept(command(1000n));

    const error = caught(() => rule.accept(command(counter)));

    expect(error).toBeInstanceOf(GbcsReplayError);
    expect(error).toMatchObject({ device: ESME_A0, originator: SUPPLIER, counter, lastAccepted: 1000n });
    expect(rule.lastAccepted(parseEui64(ESME_A0), parseEui64(SUPPLIER))).toBe(1000n);
  });

  test("keeps originators apart", () => {
    const rule = new CommandCounterRule();
    rule.accept(command(5000n));

    rule.accept(command(10n, NETWORK_OPERATOR));

    expect(rule.lastAccepted(parseEui64(ESME_A0), parseEui64(NETWORK_OPERATOR))).toBe(10n);
  });

  test("keeps devices apart", () => {
    const rule = new CommandCounterRule();
    rule.accept(command(5000n));

    rule.accept(command(10n, SUPPLIER, GSME_A1));

    expect(rule.lastAccepted(parseEui64(GSME_A1), parseEui64(SUPPLIER))).toBe(10n);
  });

  test("check leaves the state alone", () => {
    const rule = new CommandCounterRule();

    rule.check(command(7n));

    expect(rule.lastAccepted(parseEui64(ESME_A0), parseEui64(SUPPLIER))).toBeUndefined();
  });

  test("response is a usage error", () => {
    const response = buildResponse(command(1n), { content: Uint8Array.of(0xda) });

    expect(caught(() => new CommandCounterRule().accept(response))).toBeInstanceOf(GbcsUsageError);
  });
});

describe("command counter file", () => {
  test("save then load keeps the counters", () => {
    const path = join(temp, "round-trip", "counters.json");
    const rule = new CommandCounterRule();
    rule.accept(command(0xffff_ffff_ffff_fffen));

    saveCommandCounters(path, rule);
    const loaded = loadCommandCounters(path);

    expect(loaded.lastAccepted(parseEui64(ESME_A0), parseEui64(SUPPLIER))).toBe(0xffff_ffff_ffff_fffen);
    expect(caught(() => loaded.accept(command(0xffff_ffff_ffff_fffen)))).toBeInstanceOf(GbcsReplayError);
  });

  test("save leaves no temporary file", () => {
    const folder = join(temp, "atomic");
    saveCommandCounters(join(folder, "counters.json"), new CommandCounterRule());

    expect(readdirSync(folder)).toEqual(["counters.json"]);
  });

  test("missing file starts empty", () => {
    const rule = loadCommandCounters(join(temp, "absent.json"));

    expect(rule.toJSON()).toEqual({ version: 1, counters: {} });
  });

  const key = `${ESME_A0}:${SUPPLIER}`;
  test.each([
    ["invalid JSON", "{", "cannot be read as JSON"],
    ["version 2", JSON.stringify({ version: 2, counters: {} }), "another layout"],
    ["null counters", JSON.stringify({ version: 1, counters: null }), "counters must be an object"],
    ["key without originator", JSON.stringify({ version: 1, counters: { [ESME_A0]: "1" } }), "is not"],
    ["negative counter", JSON.stringify({ version: 1, counters: { [key]: "-1" } }), "is not"],
    ["counter above 64 bits", JSON.stringify({ version: 1, counters: { [key]: "18446744073709551616" } }), "is not"],
  ])("%s is a counter file error", (name, text, detail) => {
    const path = join(temp, `${name.replaceAll(" ", "-")}.json`);
    writeFileSync(path, text);

    const error = caught(() => loadCommandCounters(path));

    expect(error).toBeInstanceOf(CounterFileError);
    expect((error as CounterFileError).detail).toContain(detail);
  });
});
