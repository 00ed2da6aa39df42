/**
 * The GBCS layer of boxd: codecs of the GBCS APDUs and the GBCS crypto (KDF, MAC, payload encryption, ECDSA)
 * that an emulated device uses to read commands and to build its responses and alerts.
 */
export {
  CraFlag,
  DATE_TIME_LENGTH,
  GENERAL_CIPHERING_TAG,
  GENERAL_SIGNING_TAG,
  MAC_LENGTH,
  SIGNATURE_LENGTH,
} from "./apdu/constants.ts";
export { decodeGeneralCiphering, encodeGeneralCiphering, type GeneralCiphering } from "./apdu/general-ciphering.ts";
export {
  type DecodedGeneralSigning,
  decodeGeneralSigning,
  decodeOtherInformation,
  encodeGeneralSigning,
  encodeOtherInformation,
  encodeSignedData,
  type GeneralSigning,
  type OtherInformation,
  type SignatureField,
} from "./apdu/general-signing.ts";
export { concatBytes, fromHex, toHex } from "./bytes.ts";
export { decryptPayload, encryptPayload } from "./crypto/encryption.ts";
export {
  deriveKey,
  encryptionKdfParameters,
  KdfMode,
  type KdfParameters,
  type KeyAgreementPair,
  macKdfParameters,
} from "./crypto/kdf.ts";
export { computeMac, isMacValid } from "./crypto/mac.ts";
export { signGeneralSigning, verifyGeneralSigning } from "./crypto/signature.ts";
export {
  CounterFileError,
  GbcsDecodeError,
  GbcsDecryptionError,
  GbcsError,
  GbcsMacMismatchError,
  GbcsRemoteDataError,
  GbcsReplayError,
  GbcsSignatureInvalidError,
  GbcsUsageError,
  KeyStoreError,
} from "./errors.ts";
export { type Eui64, parseEui64 } from "./eui.ts";
export { type KeyQuery, KeyStore, type KeyStoreEntry, type KeyUsage } from "./keys/keystore.ts";
export { loadPrivateKey, loadPublicKey, publicKeyFromCertificate } from "./keys/pem.ts";
export {
  buildCommand,
  buildCommandFromSignedPreCommand,
  buildResponse,
  checkMac,
  decodeMessage,
  type DeviceMacKeys,
  type GbcsMessage,
  type HeaderFields,
  openCommand,
  type ResponseFields,
  type SenderMacKeys,
  signPreCommand,
  verifyMac,
  verifyPreCommandSignature,
  wrapWithMac,
} from "./messages.ts";
export { decodeTlv, encodeTlv, type TagClass, type TlvNode } from "./asn1/tlv.ts";
export {
  type AccessRequest,
  type AccessRequestSpecification,
  type AccessResponse,
  type AccessResponseSpecification,
  type CosemDescriptor,
  type DataNotification,
  type DlmsApdu,
  decodeDlmsApdu,
  encodeDlmsApdu,
  invokeIdFor,
} from "./dlms/apdu.ts";
export { ACTION_RESULTS, DATA_ACCESS_RESULTS, DataTag, DlmsApduTag } from "./dlms/constants.ts";
export { decodeData, type DlmsData, encodeData } from "./dlms/data.ts";
export {
  ExtendedHeaderControl,
  fromZigbeeUtcTime,
  GBZ_PROFILE_ID,
  toZigbeeUtcTime,
  ZIGBEE_EPOCH_OFFSET_SECONDS,
} from "./gbz/constants.ts";
export { decodeDlmsDateTime, encodeDlmsDateTime } from "./dlms/date-time.ts";
export {
  decodeGbzAlert,
  decodeGbzAlertComponents,
  decodeGbzPayload,
  encodeGbzAlert,
  encodeGbzPayload,
  type EncryptedGbzComponent,
  type GbzAlert,
  type GbzComponent,
  type GbzPayload,
  type PlainGbzComponent,
  type ZclHeader,
} from "./gbz/gbz.ts";
export { decodePayload, encodePayload, type GbcsPayload, type PayloadKind, payloadKindOf } from "./payload.ts";
export { ALERT_CODES, type AlertCodeInfo, alertCodeInfo } from "./tables/alert-codes.ts";
export { MESSAGE_CODES, type MessageCodeInfo, messageCodeInfo } from "./tables/message-codes.ts";
export {
  buildProtectedAttributesResponse,
  DATA_PROTECTION_CLASS_ID,
  decryptProtectedAttributes,
  GET_PROTECTED_ATTRIBUTES_METHOD,
  type ProtectedAttributesKeys,
  type ProtectedAttributesRequest,
  readProtectedAttributesRequest,
} from "./use-cases/protected-attributes.ts";
export { buildAlert, buildDlmsAlertContent } from "./use-cases/alerts.ts";
export { CommandCounterRule, loadCommandCounters, saveCommandCounters } from "./replay/command-counters.ts";
