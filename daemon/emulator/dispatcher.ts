import type { ServiceVariant } from "../duis/access.ts";
import { ResponseCode } from "../duis/codes.ts";
import type { ServiceHandler, ServiceOutcome } from "../duis/gateway.ts";
import type { DuisRequest } from "../duis/request.ts";
import type { Inventory } from "./han.ts";
import { readInventory } from "./inventory-service.ts";

/** A device service: runs one SRV on an emulated device and queues its asynchronous response. */
export type DeviceService = (request: DuisRequest, variant: ServiceVariant) => Promise<ServiceOutcome>;

/**
 * Routes accepted DUIS requests to the emulated DCC: non-device requests are
 * answered by the DCC itself, device requests by the emulated device they
 * target. A request for a device that is not in the inventory gets E19.
 */
export class Dispatcher implements ServiceHandler {
  constructor(
    private readonly inventory: Inventory,
    private readonly deviceServices: ReadonlyMap<string, DeviceService>,
  ) {}

  async handle(request: DuisRequest, variant: ServiceVariant): Promise<ServiceOutcome> {
    if (variant.nonDevice) return this.handleNonDevice(request, variant);

    const device = this.inventory.get(request.requestId.target);
    if (!device) {
      return { code: ResponseCode.deviceNotFound, reason: `device ${request.requestId.target} is not in the inventory` };
    }

    const service = this.deviceServices.get(variant.variant);
    if (!service) {
      return {
        code: ResponseCode.deviceCannotCommunicate,
        reason: `SRV ${variant.variant} (${variant.name}) is not emulated by this release`,
      };
    }
    return service(request, variant);
  }

  private async handleNonDevice(request: DuisRequest, variant: ServiceVariant): Promise<ServiceOutcome> {
    switch (variant.variant) {
      case "8.2":
        return readInventory(request, this.inventory);
      default:
        return {
          code: ResponseCode.deviceCannotCommunicate,
          reason: `non-device SRV ${variant.variant} (${variant.name}) is not emulated by this release`,
        };
    }
  }
}
