import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { readRequest } from "../../daemon/duis/request.ts";
import { parseUntrusted } from "../../daemon/duis/xml.ts";
import type { CriticalUseCase } from "../../daemon/emulator/use-cases/critical-use-case.ts";
import { paymentMode } from "../../daemon/emulator/use-cases/payment-mode.ts";
import { synchroniseClock } from "../../daemon/emulator/use-cases/synchronise-clock.ts";
import { buildCommand, buildResponse, decodeMessage, encodeGeneralSigning, toHex } from "../../daemon/gbcs/index.ts";
import { readTemplate } from "../support/java-tool.ts";

const RTDS = join(import.meta.dir, "..", "vectors", "gbcs", "rtds-4.5.0");

function rtds(path: string): Uint8Array {
  return Buffer.from(readFileSync(join(RTDS, path), "utf8").trim(), "hex");
}

function templateRequest(name: string) {
  const doc = parseUntrusted(new TextEncoder().encode(readTemplate(name)));
  try {
    return readRequest(doc);
  } finally {
    doc.dispose();
  }
}

/** RTDS device time of the responses: 2015-01-01 00:00:00 UTC. */
const RTDS_DEVICE_CLOCK = new Date(Date.UTC(2015, 0, 1));

/** Builds the pre-command boxd issues for a template, as bytes. */
function preCommandFor(useCase: CriticalUseCase, template: string): Uint8Array {
  const request = templateRequest(template);
  const body = useCase.transform(request, request.requestId.counter);
  if ("rejected" in body) throw new Error(body.rejected);
  return encodeGeneralSigning(
    buildCommand({
      originator: request.requestId.originator as never,
      recipient: request.requestId.target as never,
      counter: request.requestId.counter,
      messageCode: body.messageCode,
      content: body.content,
      dateTime: body.dateTime,
    }),
  );
}

/** Returns the unsigned form of a device-signed response, to compare without the random ECDSA value. */
function unsigned(bytes: Uint8Array): string {
  const message = decodeMessage(bytes);
  return toHex(encodeGeneralSigning({ ...message.apdu, signature: { form: "empty" } }));
}

describe.each([
  ["ECS70 synchronise clock", synchroniseClock, "ECS70_6.11_SUCCESS_REQUEST_DUIS.XML", "8.1.1_ECS70Commission/ECS70Commission_8.1.1_SUCCESS"],
  ["ECS02 payment mode credit", paymentMode, "ECS02_1.6_IMMEDIATE_SINGLE_SUCCESS_REQUEST_DUIS.XML", "1.6_ECS02/ECS02_1.6_IMMEDIATE_SINGLE_SUCCESS"],
])("%s", (_, useCase, template, vector) => {
  test("pre-command matches RTDS with the null signature byte", () => {
    expect(toHex(preCommandFor(useCase, template))).toBe(`${toHex(rtds(`${vector}_PRECOMMAND_GBCS.HEX`))}00`);
  });

  test("device response matches RTDS up to its signature", () => {
    const command = decodeMessage(rtds(`${vector}_PRECOMMAND_GBCS.HEX`)).apdu;
    const answer = useCase.execute(command.content, command.originatorCounter, RTDS_DEVICE_CLOCK);

    const response = encodeGeneralSigning(buildResponse(command, { content: answer.content, dateTime: answer.dateTime }));
    expect(toHex(response)).toBe(unsigned(rtds(`${vector}_RESPONSE_GBCS.HEX`)));
  });
});

describe("ECS02 execution time", () => {
  test.each([
    ["future dated", "2030-01-15T09:00:00.00Z", "090C07EE010FFF090000008000FF"],
    ["cancellation", "3000-12-31T00:00:00.00Z", "090CFFFFFFFFFFFFFFFFFF8000FF"],
  ])("%s request", (_, executionDateTime, expected) => {
    const request = templateRequest("ECS02_1.6_IMMEDIATE_SINGLE_SUCCESS_REQUEST_DUIS.XML");
    request.bodyFields.set("ExecutionDateTime", executionDateTime);

    const body = paymentMode.transform(request, 1002n);

    expect("content" in body).toBe(true);
    expect(toHex((body as { content: Uint8Array }).content).endsWith(expected)).toBe(true);
  });

  test("prepayment is refused with a reason", () => {
    const request = templateRequest("ECS02_1.6_IMMEDIATE_SINGLE_SUCCESS_REQUEST_DUIS.XML");
    request.bodyFields.delete("Credit");
    request.bodyFields.set("Prepayment/DisablementThreshold", "0");

    expect(paymentMode.transform(request, 1002n)).toEqual({
      rejected: "UpdatePaymentMode to Prepayment is not emulated; this release switches to Credit only",
    });
  });
});
