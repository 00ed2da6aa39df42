import type { ServiceVariant } from "../duis/access.ts";
import { ResponseCode } from "../duis/codes.ts";
import { DCC_EUI } from "../duis/constants.ts";
import type { Eui } from "../duis/eui.ts";
import type { ServiceOutcome } from "../duis/gateway.ts";
import type { DuisRequest } from "../duis/request.ts";
import { buildResponse, element, group, responseIdFor, responseMessage } from "../duis/response.ts";
import { signCanonicalDocument, type ResponseSigner } from "../duis/signature.ts";
import type { Outbox } from "../delivery/outbox.ts";
import type { Logger } from "../log.ts";
import type { DeviceService } from "./dispatcher.ts";
import type { GbcsKeys } from "./gbcs-keys.ts";
import { join } from "node:path";
import { completeSignedPreCommand, transform, type CriticalContext } from "./critical.ts";
import type { DeviceRecord, Inventory } from "./han.ts";
import { PreCommandStore } from "./pre-commands.ts";
import type { CriticalUseCase } from "./use-cases/critical-use-case.ts";
import { ecs17bCommand, ecs17bRespond } from "./use-cases/instantaneous-registers.ts";
import { paymentMode } from "./use-cases/payment-mode.ts";
import { ecs52Command, ecs52Respond } from "./use-cases/read-firmware.ts";
import type { Routing } from "./use-cases/wan.ts";
import { synchroniseClock } from "./use-cases/synchronise-clock.ts";

/** Critical use cases boxd emulates, by DUIS service reference variant. */
const CRITICAL_USE_CASES: ReadonlyMap<string, CriticalUseCase> = new Map([
  ["1.6", paymentMode],
  ["6.11", synchroniseClock],
]);

/** Whom device responses are addressed to; see the `gbcs.responseRouting` setting. */
export type ResponseRouting = "originator" | "acb";

export interface DeviceServiceContext {
  inventory: Inventory;
  keys: GbcsKeys;
  signer: ResponseSigner;
  outbox: Outbox;
  /** Called after a response is queued, to start its delivery. */
  queued: () => void;
  routing: ResponseRouting;
  log: Logger;
  now?: () => Date;
}

/**
 * GBCS originator counters the DCC generates when it relays for a user:
 * milliseconds since the epoch, strictly increasing even within one
 * millisecond, as DCC Boxed's ACB-routed captures show.
 */
class DccCounter {
  private last = 0n;

  next(now: Date): bigint {
    const candidate = BigInt(now.getTime());
    this.last = candidate > this.last ? candidate : this.last + 1n;
    return this.last;
  }
}

/** Builds the device services boxd emulates, by DUIS service reference variant. */
export function deviceServices(context: DeviceServiceContext): Map<string, DeviceService> {
  const now = context.now ?? (() => new Date());
  const dccCounter = new DccCounter();

  const routingFor = (request: DuisRequest): Routing => {
    const { originator, counter } = request.requestId;
    if (context.routing === "originator") return { remoteParty: originator, counter };
    return {
      remoteParty: DCC_EUI as Eui,
      counter: dccCounter.next(now()),
      supplementary: { remotePartyId: originator, remotePartyCounter: counter },
    };
  };

  /** Wraps a device's GBCS response into a signed async DUIS I0, queues it durably, and acknowledges with I99. */
  const answerAsync = async (request: DuisRequest, variant: ServiceVariant, gbcs: Uint8Array): Promise<ServiceOutcome> => {
    const acknowledgedAt = now();
    const canonical = buildResponse(
      { requestId: request.requestId, responseId: responseIdFor(request.requestId), code: ResponseCode.success, dateTime: now() },
      responseMessage(request.serviceReference, variant.variant, element("GBCSPayload", Buffer.from(gbcs).toString("base64"))),
    );
    const message = await context.outbox.enqueue(request.requestId.text, signCanonicalDocument(canonical, context.signer), now().getTime());
    context.log.info({ requestId: request.requestId.text, srv: variant.variant, messageId: message.id, gbcsBytes: gbcs.length }, "device response queued");
    context.queued();
    return { code: ResponseCode.acknowledged, dateTime: acknowledgedAt };
  };

  /** CV 2 and 6: the DCC returns the MAC'd command synchronously, for the user to deliver over the HAN. */
  const localCommand = (command: Uint8Array): ServiceOutcome => ({
    code: ResponseCode.success,
    payload: group("LocalCommand", element("GBCSPayload", Buffer.from(command).toString("base64"))),
  });

  // The use cases for other device types (e.g. GCS38 on a GSME) are not emulated yet: E20, not E11.
  const requireType = (device: DeviceRecord, types: readonly string[], srv: string): ServiceOutcome | undefined => {
    if (types.includes(device.deviceType)) return undefined;
    return {
      code: ResponseCode.deviceCannotCommunicate,
      reason: `SRV ${srv} is emulated for ${types.join(", ")} only; device ${device.eui} is a ${device.deviceType}`,
    };
  };

  const services = new Map<string, DeviceService>();
  const critical: CriticalContext = {
    keys: context.keys,
    preCommands: new PreCommandStore(join(context.inventory.stateDirectory, "pre-commands.json")),
    now,
  };

  // SRV 11.2 Read Firmware Version: GBCS ECS52 on an ESME.
  services.set("11.2", async (request, variant) => {
    const device = context.inventory.get(request.requestId.target)!;
    const wrongType = requireType(device, ["ESME"], variant.variant);
    if (wrongType) return wrongType;
    if (!context.keys.hasRemoteParty(request.requestId.originator)) {
      return { code: ResponseCode.roleNotEligible, reason: `user ${request.requestId.originator} has no GBCS key-agreement key the device could answer to` };
    }

    const routing = routingFor(request);
    const command = ecs52Command(device, routing, context.keys);
    if (request.commandVariant === 2) return localCommand(command);
    return answerAsync(request, variant, ecs52Respond(device, command, routing, context.keys));
  });

  // SRV 4.1.1 Read Instantaneous Import Registers: GBCS ECS17b on an ESME, values encrypted for the user.
  services.set("4.1.1", async (request, variant) => {
    const device = context.inventory.get(request.requestId.target)!;
    const wrongType = requireType(device, ["ESME"], variant.variant);
    if (wrongType) return wrongType;
    if (!context.keys.hasRemoteParty(request.requestId.originator)) {
      return { code: ResponseCode.roleNotEligible, reason: `user ${request.requestId.originator} has no GBCS key-agreement key to decrypt with` };
    }

    const routing = routingFor(request);
    const reader = request.requestId.originator;
    const command = ecs17bCommand(device, routing, reader, context.keys);
    if (request.commandVariant === 2) return localCommand(command);
    return answerAsync(request, variant, ecs17bRespond(device, command, routing, reader, context.keys, now()));
  });

  // Critical SRVs: CV 4 transforms to a pre-command; CV 5 (or 6) returns it signed and runs it.
  for (const [srv, useCase] of CRITICAL_USE_CASES) {
    services.set(srv, async (request, variant) => {
      const device = context.inventory.get(request.requestId.target)!;
      const wrongType = requireType(device, useCase.deviceTypes, variant.variant);
      if (wrongType) return wrongType;

      if (request.commandVariant === 4) return transform(request, device, useCase, critical);

      const result = completeSignedPreCommand(request, device, useCase, critical);
      if (!("kind" in result)) return result;
      if (result.kind === "local-command") return localCommand(result.gbcs);
      return answerAsync(request, variant, result.gbcs);
    });
  }

  return services;
}
