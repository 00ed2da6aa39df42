import { describe, expect, test } from "bun:test";
import { once } from "node:events";
import { ResponseCode } from "../../daemon/duis/codes.ts";
import { decodeMessage } from "../../daemon/gbcs/index.ts";
import { readTemplate } from "../support/java-tool.ts";
import { postDuis, ReceiveResponseService, runBoxd, tempFolder, testConfig } from "../support/harness.ts";

/** Returns an unsigned request with its own counter. These tests run with signature validation off. */
function request(template: string, counter: number): string {
  return readTemplate(template)
    .replace(/(<sr:RequestID>[^<]*:)\d+</, `$1${counter}<`)
    .replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, "");
}

const READ_FIRMWARE = "ECS52_11.2_SUCCESS_REQUEST_DUIS.XML";
const READ_INVENTORY = "8.2_READ_INVENTORY_REQUEST_DUIS.XML";

function responseCode(xml: string): string {
  return /<sr:ResponseCode>([^<]+)</.exec(xml)?.[1] ?? "(none)";
}

/** Returns a loopback port with nothing listening on it. */
function closedPort(): number {
  const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = probe.port!;
  probe.stop(true);
  return port;
}

const UNSIGNED = { BOXD_DUIS_VALIDATE_SIGNATURES: "false" };

describe("asynchronous delivery", () => {
  test("receiver down, then back: nothing lost", async () => {
    using folder = tempFolder("delivery-down");
    const port = closedPort();
    await using boxd = await runBoxd(testConfig(folder.path, { ...UNSIGNED, BOXD_RECEIVER_URL: `127.0.0.1:${port}/smartdcc/duis` }));
    const retried = once(boxd.sender, "retry");

    const ack = await (await postDuis(boxd.ports.duis, "S", request(READ_FIRMWARE, 2001))).text();
    expect(responseCode(ack)).toBe(ResponseCode.acknowledged);
    const [, error] = await retried;
    expect(String(error)).toContain("Unable to connect");
    expect(boxd.outbox.size).toBe(1);

    const receiver = new ReceiveResponseService();
    receiver.start(port);
    try {
      const [delivered] = await receiver.waitFor(1);
      expect(delivered).toContain("<sr:ResponseCode>I0</sr:ResponseCode>");
      expect(delivered).toContain(":2001</sr:RequestID>");
      if (boxd.outbox.size > 0) await once(boxd.sender, "delivered");
      expect(boxd.outbox.size).toBe(0);
    } finally {
      receiver.stop();
    }
  });

  test("queued response survives a restart", async () => {
    using folder = tempFolder("delivery-restart");
    const port = closedPort();
    const config = testConfig(folder.path, { ...UNSIGNED, BOXD_RECEIVER_URL: `127.0.0.1:${port}/smartdcc/duis` });

    const first = await runBoxd(config);
    const ack = await (await postDuis(first.ports.duis, "S", request(READ_FIRMWARE, 3001))).text();
    expect(responseCode(ack)).toBe(ResponseCode.acknowledged);
    await first.stop();
    expect(first.outbox.size).toBe(1);

    const receiver = new ReceiveResponseService();
    receiver.start(port);
    try {
      await using second = await runBoxd(config);
      const [delivered] = await receiver.waitFor(1);
      expect(delivered).toContain(":3001</sr:RequestID>");
      if (second.outbox.size > 0) await once(second.sender, "delivered");
      expect(second.outbox.size).toBe(0);
    } finally {
      receiver.stop();
    }
  });

  test("receiver that never answers is timed out and retried", async () => {
    using folder = tempFolder("delivery-hang");
    const receiver = new ReceiveResponseService();
    receiver.hang = true;
    receiver.start();
    try {
      await using boxd = await runBoxd(
        testConfig(folder.path, { ...UNSIGNED, BOXD_RECEIVER_URL: receiver.url, BOXD_RECEIVER_REQUEST_TIMEOUT_MS: "200" }),
      );
      const retried = once(boxd.sender, "retry");
      await postDuis(boxd.ports.duis, "S", request(READ_FIRMWARE, 4001));

      const [, error] = await retried;
      expect(String(error)).toContain("TimeoutError");
      expect(boxd.outbox.size).toBe(1);

      receiver.hang = false;
      await receiver.waitFor(1);
      expect(receiver.received[0]).toContain(":4001</sr:RequestID>");
    } finally {
      receiver.stop();
    }
  });

  test("receiver answering 500 is retried until 2xx", async () => {
    using folder = tempFolder("delivery-500");
    const receiver = new ReceiveResponseService();
    receiver.status = 500;
    receiver.start();
    try {
      await using boxd = await runBoxd(testConfig(folder.path, { ...UNSIGNED, BOXD_RECEIVER_URL: `http://${receiver.url}` }));
      const retried = once(boxd.sender, "retry");
      await postDuis(boxd.ports.duis, "S", request(READ_FIRMWARE, 5001));

      const [, error] = await retried;
      expect(String(error)).toBe("receiver answered HTTP 500");

      receiver.status = 204;
      await receiver.waitFor(1);
      expect(receiver.received[0]).toContain(":5001</sr:RequestID>");
    } finally {
      receiver.stop();
    }
  });
});

describe("anti-replay counters", () => {
  test("survive a restart", async () => {
    using folder = tempFolder("counters");
    const config = testConfig(folder.path, UNSIGNED);

    const first = await runBoxd(config);
    expect(responseCode(await (await postDuis(first.ports.duis, "D", request(READ_INVENTORY, 7000))).text())).toBe(ResponseCode.success);
    await first.stop();

    await using second = await runBoxd(config);
    expect(responseCode(await (await postDuis(second.ports.duis, "D", request(READ_INVENTORY, 7000))).text())).toBe(ResponseCode.notAuthenticated);
    expect(responseCode(await (await postDuis(second.ports.duis, "D", request(READ_INVENTORY, 7001))).text())).toBe(ResponseCode.success);
  });

  test("unsigned request accepted when validation is off", async () => {
    using folder = tempFolder("unsigned");
    await using boxd = await runBoxd(testConfig(folder.path, UNSIGNED));

    const body = await (await postDuis(boxd.ports.duis, "D", request(READ_INVENTORY, 1))).text();
    expect(responseCode(body)).toBe(ResponseCode.success);
  });
});

describe("device services", () => {
  test("CV 2 returns the MAC'd command for local delivery", async () => {
    using folder = tempFolder("local-delivery");
    await using boxd = await runBoxd(testConfig(folder.path, UNSIGNED));

    const body = await (await postDuis(boxd.ports.duis, "D", request("ECS17b_4.1.1_REQUEST_DUIS.XML", 8001))).text();

    expect(responseCode(body)).toBe(ResponseCode.success);
    const command = decodeMessage(Buffer.from(/<sr:LocalCommand><sr:GBCSPayload>([^<]+)</.exec(body)![1]!, "base64"));
    expect(command.mac).toBeDefined();
    expect(command.apdu.otherInfo.messageCode).toBe(0x0027);
    expect(command.apdu.recipient as string).toBe("00DB1234567890A0");
  });

  test("use case not emulated for the device type is E20", async () => {
    using folder = tempFolder("gsme");
    await using boxd = await runBoxd(testConfig(folder.path, UNSIGNED));

    const body = await (await postDuis(boxd.ports.duis, "S", request("GCS38_11.2_SUCCESS_REQUEST_DUIS.XML", 8002))).text();

    expect(responseCode(body)).toBe(ResponseCode.deviceCannotCommunicate);
  });
});
