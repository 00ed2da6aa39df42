/**
 * The DUIS response codes boxd answers with, and why each one is chosen.
 *
 * I0, I99 and E2 to E21 carry their usual DUIS meaning. The DUIS text that
 * maps malformed or unauthenticated requests to codes was not at hand, so
 * boxd uses E1 for every request that cannot be attributed to a known,
 * fresh, correctly signed user request and E100 for a body that is not a
 * well-formed DUIS 5.4 document.
 * NOTE: if the DUIS specification names other codes for these two cases,
 * change them here; the tests assert the constants, not literals.
 */
export const ResponseCode = {
  /** Success: a final synchronous or asynchronous result. */
  success: "I0",
  /** Acknowledgement: a device request passed every check; the result follows asynchronously. */
  acknowledged: "I99",
  /** Unsigned, signed by an unknown or wrong key, tampered, or a replayed RequestID counter. */
  notAuthenticated: "E1",
  /** The signer's role is not an eligible user role for the service reference variant. */
  roleNotEligible: "E2",
  /** The device exists but its status does not allow the request. */
  invalidDeviceStatus: "E5",
  /** The service request does not apply to the type of the target device. */
  wrongDeviceType: "E11",
  /** The command variant is not valid for this service request, or DCC Boxed does not offer it. */
  invalidCommandVariant: "E12",
  /** The command variant belongs to another web service URL. */
  wrongWebService: "E13",
  /** The target device is not in the inventory. */
  deviceNotFound: "E19",
  /**
   * SRV 8.2 Read Inventory: no device matches the search.
   * NOTE: this meaning is inferred from the code's place in the DUIS 5.4 list.
   */
  noInventoryMatch: "E080201",
  /** The emulated device does not implement the GBCS use case of this request. */
  deviceCannotCommunicate: "E20",
  /** Not well-formed XML, DTD content, or invalid against DUIS Schema 5.4. */
  malformedRequest: "E100",
} as const;

export type ResponseCodeValue = (typeof ResponseCode)[keyof typeof ResponseCode];
