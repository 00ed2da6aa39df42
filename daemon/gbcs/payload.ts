import { CraFlag } from "./apdu/constants.ts";
import type { GeneralSigning } from "./apdu/general-signing.ts";
import { decodeTlv, encodeTlv, type TlvNode } from "./asn1/tlv.ts";
import { type DlmsApdu, decodeDlmsApdu, encodeDlmsApdu } from "./dlms/apdu.ts";
import { DlmsApduTag } from "./dlms/constants.ts";
import { decodeGbzAlert, decodeGbzPayload, encodeGbzAlert, encodeGbzPayload, type GbzAlert, type GbzPayload } from "./gbz/gbz.ts";
import { GBZ_PROFILE_ID } from "./gbz/constants.ts";
import { messageCodeInfo } from "./tables/message-codes.ts";

/** The three content forms of a GBCS message: xDLMS for ESMEs, GBZ (ZigBee) for gas devices, ASN.1 for CS use cases. */
export type PayloadKind = "dlms" | "gbz" | "asn1";

/** The decoded content of a General Signing APDU. */
export type GbcsPayload =
  | { kind: "dlms"; apdu: DlmsApdu }
  | { kind: "gbz"; gbz: GbzPayload | GbzAlert }
  | { kind: "asn1"; nodes: TlvNode[] };

/**
 * Returns the payload form of a message: from the message-code table when it lists the code, else from the
 * first bytes (D9, DA or 0F for xDLMS, the profile ID 01 09 for GBZ, anything else ASN.1).
 */
export function payloadKindOf(messageCode: number, content: Uint8Array): PayloadKind {
  const known = messageCodeInfo(messageCode);
  if (known !== undefined) return known.payload;

  const first = content[0];
  if (first === DlmsApduTag.accessRequest || first === DlmsApduTag.accessResponse || first === DlmsApduTag.dataNotification) {
    return "dlms";
  }
  if (content.length >= 2 && ((content[0]! << 8) | content[1]!) === GBZ_PROFILE_ID) return "gbz";
  return "asn1";
}

/**
 * Decodes the content of `apdu`. GBZ content of an alert (CRA flag 3) is read as a GBZ alert, otherwise as
 * components. `contentOffset` places error offsets within the whole message.
 */
export function decodePayload(apdu: GeneralSigning, contentOffset = 0): GbcsPayload {
  const kind = payloadKindOf(apdu.otherInfo.messageCode, apdu.content);

  switch (kind) {
    case "dlms":
      return { kind, apdu: decodeDlmsApdu(apdu.content, contentOffset) };
    case "gbz":
      return {
        kind,
        gbz: apdu.cra === CraFlag.alert ? decodeGbzAlert(apdu.content, contentOffset) : decodeGbzPayload(apdu.content, contentOffset),
      };
    case "asn1":
      return { kind, nodes: decodeTlv(apdu.content, contentOffset) };
  }
}

export function encodePayload(payload: GbcsPayload): Uint8Array {
  switch (payload.kind) {
    case "dlms":
      return encodeDlmsApdu(payload.apdu);
    case "gbz":
      return payload.gbz.form === "alert" ? encodeGbzAlert(payload.gbz) : encodeGbzPayload(payload.gbz);
    case "asn1":
      return encodeTlv(payload.nodes);
  }
}
