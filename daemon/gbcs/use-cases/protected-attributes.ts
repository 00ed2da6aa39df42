import type { KeyObject } from "node:crypto";
import { CraFlag } from "../apdu/constants.ts";
import type { GeneralSigning } from "../apdu/general-signing.ts";
import { decryptPayload, encryptPayload } from "../crypto/encryption.ts";
import { deriveKey, encryptionKdfParameters } from "../crypto/kdf.ts";
import { type AccessRequest, type AccessResponse, decodeDlmsApdu, encodeDlmsApdu } from "../dlms/apdu.ts";
import { type DlmsData, decodeData, encodeData } from "../dlms/data.ts";
import { GbcsDecodeError, GbcsUsageError } from "../errors.ts";
import { buildResponse, type ResponseFields } from "../messages.ts";

/** COSEM interface class Data Protection, whose method 1 reads attributes encrypted (get_protected_attributes). */
export const DATA_PROTECTION_CLASS_ID = 30;
export const GET_PROTECTED_ATTRIBUTES_METHOD = 1;

/** Action-Result `success`. */
const ACTION_SUCCESS = 0;

/** The protection parameters and object list of a get_protected_attributes command. */
export interface ProtectedAttributesRequest {
  request: AccessRequest;
  /** The attributes to read: class, logical name, attribute index, data index and restriction. */
  objectList: DlmsData;
  /** One protection_parameters structure per protection applied, each {protection_type, protection_options}. */
  protectionParameters: DlmsData[];
}

/**
 * Reads a protected-attributes command (ECS17b "Read Instantaneous Import Registers", SRV 4.1.1, and the other
 * ESME reads GBCS protects): an Access-Request with one action on Data Protection method 1, whose parameter is
 * the structure {object_list, protection_parameters}.
 */
export function readProtectedAttributesRequest(command: GeneralSigning): ProtectedAttributesRequest {
  const request = decodeDlmsApdu(command.content);
  if (request.apdu !== "access-request") {
    throw new GbcsDecodeError("protected-attributes command", "APDU", 0, `expected an Access-Request, got ${request.apdu}`);
  }

  const action = request.specifications[0];
  const isProtectedRead =
    request.specifications.length === 1 &&
    action?.kind === "action" &&
    action.descriptor.classId === DATA_PROTECTION_CLASS_ID &&
    action.descriptor.index === GET_PROTECTED_ATTRIBUTES_METHOD;
  if (!isProtectedRead) {
    throw new GbcsDecodeError("protected-attributes command", "specification", 0, "expected one action on class 30 method 1");
  }

  const parameter = request.data[0];
  const protection = parameter?.type === "structure" ? parameter.items[1] : undefined;
  if (parameter?.type !== "structure" || parameter.items.length !== 2 || protection?.type !== "array") {
    throw new GbcsDecodeError("protected-attributes command", "parameter", 0, "expected structure {object_list, protection_parameters array}");
  }

  return { request, objectList: parameter.items[0]!, protectionParameters: protection.items };
}

/** Keys a device uses to encrypt attribute values for the remote party that reads them. */
export interface ProtectedAttributesKeys {
  deviceKaPrivateKey: KeyObject;
  /** KA public key of the recipient, or of the supplementary remote party when the response names one. */
  remoteKaPublicKey: KeyObject;
}

/**
 * Builds the response to a protected-attributes command: an Access-Response whose data is
 * {protection_parameters with originator and recipient swapped, protected_attributes}, where
 * protected_attributes is the A-XDR encoding of `values` encrypted as GBCS requires (AES-128-GCM, KDF mode
 * encryption). A client holding the remote party's KA private key decrypts it with
 * {@link decryptProtectedAttributes}. MAC-wrap the result with `wrapWithMac`.
 */
export function buildProtectedAttributesResponse(
  command: GeneralSigning,
  values: DlmsData,
  keys: ProtectedAttributesKeys,
  fields: Omit<ResponseFields, "content"> = {},
): GeneralSigning {
  if (command.cra !== CraFlag.command) {
    throw new GbcsUsageError("command", `expected a command (CRA flag 1), got CRA flag ${command.cra}`);
  }
  const { request, protectionParameters } = readProtectedAttributesRequest(command);

  const header = buildResponse(command, { ...fields, content: new Uint8Array(0) });
  const key = deriveKey(
    { privateKey: keys.deviceKaPrivateKey, publicKey: keys.remoteKaPublicKey },
    encryptionKdfParameters(header),
  );
  const protectedAttributes = encryptPayload(key, header.originator, encodeData(values));

  const response: AccessResponse = {
    apdu: "access-response",
    invokeIdAndPriority: request.invokeIdAndPriority,
    dateTime: undefined,
    requestSpecifications: undefined,
    data: [
      {
        type: "structure",
        items: [
          { type: "array", items: protectionParameters.map(swapSystemTitles) },
          { type: "octet-string", value: protectedAttributes },
        ],
      },
    ],
    results: [{ kind: "action", result: ACTION_SUCCESS }],
  };
  return { ...header, content: encodeDlmsApdu(response) };
}

/**
 * Decrypts the attribute values of a protected-attributes response with the remote party's KA private key and
 * the device's KA public key, as a client does. Raises `GbcsDecryptionError` when the tag does not match.
 */
export function decryptProtectedAttributes(
  response: GeneralSigning,
  keys: { remoteKaPrivateKey: KeyObject; deviceKaPublicKey: KeyObject },
): DlmsData {
  const apdu = decodeDlmsApdu(response.content);
  const result = apdu.apdu === "access-response" ? apdu.data[0] : undefined;
  const protectedAttributes = result?.type === "structure" ? result.items[1] : undefined;
  if (protectedAttributes?.type !== "octet-string") {
    throw new GbcsDecodeError("protected-attributes response", "data", 0, "expected structure {protection_parameters, octet-string}");
  }

  const key = deriveKey(
    { privateKey: keys.remoteKaPrivateKey, publicKey: keys.deviceKaPublicKey },
    encryptionKdfParameters(response),
  );
  return decodeData(decryptPayload(key, response.originator, protectedAttributes.value));
}

/**
 * Returns a protection_parameters structure with originator and recipient system titles swapped, the
 * response direction of {protection_type, {transaction_id, originator, recipient, other_information, key_info}}.
 */
function swapSystemTitles(parameters: DlmsData): DlmsData {
  const options = parameters.type === "structure" ? parameters.items[1] : undefined;
  if (parameters.type !== "structure" || options?.type !== "structure" || options.items.length < 3) {
    throw new GbcsDecodeError("protection parameters", "protection_options", 0, "expected structure {protection_type, options}");
  }

  const [transactionId, originator, recipient, ...rest] = options.items;
  return {
    type: "structure",
    items: [parameters.items[0]!, { type: "structure", items: [transactionId!, recipient!, originator!, ...rest] }],
  };
}
