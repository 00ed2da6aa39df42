import { afterEach, expect, test } from "bun:test";
import type { Boxd } from "../../daemon/boot.ts";
import { CERTIFICATE_SEARCH_PATH } from "../../daemon/smki/index.ts";
import { postDuis } from "../support/harness.ts";
import { DEFAULT_LOCK_LIMITS } from "../../update/lock/index.ts";
import { DEVICE_ID, LOCK_CONTACT, LOCK_MESSAGE, World } from "./world.ts";

let world: World | undefined;
let boxd: Boxd | undefined;

afterEach(async () => {
  await boxd?.stop();
  boxd = undefined;
  await world?.close();
  world = undefined;
});

const UPDATE_CALLS: Array<[string, string, unknown]> = [
  ["POST", "/update/check", undefined],
  ["PUT", "/update/channel", { channel: "upcoming" }],
  ["PUT", "/update/pin", { version: "1.0.0" }],
  ["DELETE", "/update/pin", undefined],
  ["POST", "/update/install", {}],
  ["POST", "/update/rollback", undefined],
  ["GET", "/update/progress", undefined],
  ["GET", "/update/bad", undefined],
  ["DELETE", "/update/bad/2.0.0", undefined],
];

function searchSmki(box: Boxd): Promise<Response> {
  return fetch(`http://127.0.0.1:${box.ports.smki}${CERTIFICATE_SEARCH_PATH}`, {
    method: "POST",
    headers: { "Content-Type": "application/xml" },
    body: "<CertificateSearchRequest/>",
  });
}

/** Checks that DUIS, SMKI and every update endpoint refuse with the lock's contact. */
async function expectServiceStopped(w: World, box: Boxd): Promise<void> {
  const duis = await postDuis(box.ports.duis, "D", "<x/>");
  expect(duis.status).toBe(503);
  expect(await duis.text()).toContain(`Contact: ${LOCK_CONTACT}`);

  const smki = await searchSmki(box);
  expect(smki.status).toBe(503);
  expect(await smki.text()).toContain(LOCK_MESSAGE);

  for (const [method, path, body] of UPDATE_CALLS) {
    const answer = await w.api(box, method, path, body);
    expect({ path, status: answer.status }).toEqual({ path, status: 423 });
    expect(answer.body).toMatchObject({ error: "DeviceLocked", lockMessage: LOCK_MESSAGE, contact: LOCK_CONTACT });
  }

  const status = await w.api(box, "GET", "/status");
  expect(status.body.lock).toMatchObject({ locked: true, mode: "online", message: LOCK_MESSAGE, contact: LOCK_CONTACT });
}

test("lock, restart and unlock through the repository", async () => {
  const w = (world = await World.create());
  let box = (boxd = await w.start());
  expect((await searchSmki(box)).status).not.toBe(503);

  w.lock();
  const check = await w.api(box, "POST", "/update/check");
  expect(check.status).toBe(423);
  await expectServiceStopped(w, box);

  await box.stop();
  box = boxd = await w.start();
  await expectServiceStopped(w, box);
  expect(w.checkIns.at(-1)?.signed).toMatchObject({ deviceId: DEVICE_ID, locked: true, lockSequence: 1 });

  w.unlock();
  const refreshed = await w.api(box, "POST", "/lock/refresh");
  expect(refreshed.body).toMatchObject({ locked: false, sequence: 2, refresh: { statement: { kind: "applied" } } });

  expect((await postDuis(box.ports.duis, "D", "<x/>")).status).not.toBe(503);
  expect((await searchSmki(box)).status).not.toBe(503);
  expect((await w.api(box, "POST", "/update/check")).status).toBe(200);
  expect((await w.api(box, "GET", "/lock")).body).toMatchObject({ locked: false, message: "", contact: "" });
});

test("unlock with a nonce older than the window keeps the box locked", async () => {
  const w = (world = await World.create());
  const box = (boxd = await w.start());
  w.lock();
  await w.api(box, "POST", "/lock/refresh");

  for (let count = 0; count < DEFAULT_LOCK_LIMITS.nonceWindowCheckIns; count += 1) {
    await w.api(box, "POST", "/lock/refresh");
  }
  w.unlock(-1 - DEFAULT_LOCK_LIMITS.nonceWindowCheckIns);
  const stale = await w.api(box, "POST", "/lock/refresh");

  expect(stale.body).toMatchObject({ locked: true, refresh: { statement: { error: "UnlockNonceMismatch" } } });
});

test("unlock read before refused calls still applies", async () => {
  const w = (world = await World.create());
  const box = (boxd = await w.start());
  w.lock();
  await w.api(box, "POST", "/lock/refresh");
  const nonceIndex = w.checkIns.length - 1;

  const refused = await w.api(box, "POST", "/update/check");
  await box.lock.refresh();
  w.unlock(nonceIndex);
  const unlocked = await w.api(box, "POST", "/lock/refresh");

  expect(refused.status).toBe(423);
  expect(w.checkIns.length - 1).toBeGreaterThan(nonceIndex + 1);
  expect(unlocked.body).toMatchObject({ locked: false, refresh: { statement: { kind: "applied" } } });
});

test.each([
  { method: "POST", path: "/lock/refresh", body: undefined, checksIn: true },
  { method: "POST", path: "/update/check", body: undefined, checksIn: true },
  { method: "PUT", path: "/update/channel", body: { channel: "upcoming" }, checksIn: true },
  { method: "PUT", path: "/update/pin", body: { version: "1.0.0" }, checksIn: true },
  { method: "POST", path: "/update/install", body: {}, checksIn: true },
  { method: "DELETE", path: "/update/pin", body: undefined, checksIn: false },
  { method: "POST", path: "/update/rollback", body: undefined, checksIn: false },
  { method: "GET", path: "/update/progress", body: undefined, checksIn: false },
  { method: "GET", path: "/update/bad", body: undefined, checksIn: false },
  { method: "DELETE", path: "/update/bad/2.0.0", body: undefined, checksIn: false },
  { method: "GET", path: "/status", body: undefined, checksIn: false },
  { method: "GET", path: "/lock", body: undefined, checksIn: false },
])("locked $method $path checks in: $checksIn", async ({ method, path, body, checksIn }) => {
  const w = (world = await World.create());
  const box = (boxd = await w.start());
  w.lock();
  await w.api(box, "POST", "/lock/refresh");
  const before = w.checkIns.length;

  await w.api(box, method, path, body);

  expect(w.checkIns.length - before).toBe(checksIn ? 1 : 0);
});

test("locked refusal separates sentences", async () => {
  const w = (world = await World.create());
  const box = (boxd = await w.start());
  w.lock();
  await w.api(box, "POST", "/lock/refresh");

  const refused = await w.api(box, "POST", "/update/check");

  expect(refused.body.message).toBe(
    `Refused update check. This box is locked by the DCC, its lock authority (lock sequence 1). ${LOCK_MESSAGE} Contact: ${LOCK_CONTACT}.`,
  );
  expect(box.lock.refusal()).not.toContain("owner");
});

test("boot refresh applies a lock before serving", async () => {
  const w = (world = await World.create());
  w.lock();

  const box = (boxd = await w.start());

  expect(box.lock.isLocked()).toBe(true);
  await expectServiceStopped(w, box);
});

test("lock during a download stops the switch", async () => {
  const w = (world = await World.create());
  const box = (boxd = await w.start());
  const release = w.holdDownloads();
  expect((await w.api(box, "POST", "/update/install")).status).toBe(202);

  w.lock();
  await w.api(box, "POST", "/lock/refresh");
  release();
  await box.updates.whenIdle();

  expect(box.updates.slots().next).toEqual({ slot: null, version: null, onTrial: false });
  w.unlock();
  await w.api(box, "POST", "/lock/refresh");
  const progress = await w.api(box, "GET", "/update/progress");
  expect(progress.body.progress).toMatchObject({ phase: "failed", error: expect.stringContaining("Refused slot switch") });

  expect((await w.api(box, "POST", "/update/install")).status).toBe(202);
  await box.updates.whenIdle();
  expect(box.updates.slots().next).toEqual({ slot: "a", version: "1.1.0", onTrial: true });
});
