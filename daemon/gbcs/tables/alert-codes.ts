/** A GBCS alert code and the use cases that raise it. */
export interface AlertCodeInfo {
  /** Use case or alert family that raises the code, for example `GCS53` or `GNCA`. */
  raisedBy: readonly string[];
  description: string;
}

/**
 * GBCS alert codes that the RTDS 4.5.0 vectors carry. DLMS alerts carry the code as the first long-unsigned of
 * the Data-Notification body, GBZ alerts after the profile ID and ASN.1 alerts as the first INTEGER.
 *
 * NOTE: a description states what the vectors show (the use case and its outcome), not the full GBCS alert title.
 */
export const ALERT_CODES: ReadonlyMap<number, AlertCodeInfo> = new Map<number, AlertCodeInfo>([
  [0x8071, { raisedBy: ["GCS62"], description: "GPF alert with a list of device entries (GCS62)" }],
  [0x810e, { raisedBy: ["GNCA"], description: "generic non-critical alert example" }],
  [0x81a0, { raisedBy: ["MIIWA"], description: "meter integrity issue warning alert" }],
  [0x8f0a, { raisedBy: ["GCS53"], description: "GSME alert carrying an encrypted GBZ component" }],
  [0x8f12, { raisedBy: ["CS14"], description: "HAN whitelist change alert (CS14)" }],
  [0x8f26, { raisedBy: ["DBCH07"], description: "dual band Comms Hub alert (DBCH07)" }],
  [0x8f28, { raisedBy: ["DBCH08"], description: "dual band Comms Hub alert (DBCH08)" }],
  [0x8f2d, { raisedBy: ["DBCH11"], description: "dual band Comms Hub alert (DBCH11)" }],
  [0x8f30, { raisedBy: ["GCA"], description: "generic critical alert example" }],
  [0x8f36, { raisedBy: ["ECS80"], description: "ESME alert with two date-times (ECS80)" }],
  [0x8f66, {
    raisedBy: ["ECS01b", "ECS01d", "ECS02", "ECS03", "ECS08", "GCS01b", "GCS05", "CS02b", "CS02g", "CS06"],
    description: "future-dated command executed",
  }],
  [0x8f67, { raisedBy: ["CS02b", "CS02g", "CS06"], description: "future-dated command failed" }],
  [0x8f85, { raisedBy: ["ECS100"], description: "ESME alert (ECS100)" }],
  [0x8f87, { raisedBy: ["ECS102"], description: "ESME auxiliary input or output alert (ECS102)" }],
  [0x8f88, { raisedBy: ["ECS200"], description: "ESME alert with a JSON text payload (ECS200)" }],
  [0x8f8b, { raisedBy: ["CS09"], description: "security alert in ASN.1 (CS09)" }],
]);

/** Returns the table entry of an alert code, or undefined for a code this table does not list. */
export function alertCodeInfo(code: number): AlertCodeInfo | undefined {
  return ALERT_CODES.get(code);
}
