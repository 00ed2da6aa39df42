import { CanonicalJsonError, canonicalBytes } from "./canonical-json.ts";
import { CHECK_IN_TYPE, NONCE_BYTES } from "./constants.ts";
import { CheckInFailed, CheckInInvalid } from "./errors.ts";
import {
  keyIdOf,
  publicKeyBytes,
  signEnvelope,
  verifySignature,
  type Ed25519KeyPair,
  type Ed25519PublicKey,
  type SignedEnvelope,
} from "./keys.ts";
import { isDeviceId, isNonce } from "./statement.ts";

/** Signed part of a check-in report, sent by the box to the lock authority. */
export type CheckInBody = {
  type: typeof CHECK_IN_TYPE;
  deviceId: string;
  /** Installed release version. */
  version: string;
  /** Update channel the box follows, for example `current`. */
  channel: string;
  /** Sequence of the last lock statement the box applied, or 0 if none. */
  lockSequence: number;
  locked: boolean;
  /** Fresh random nonce in hex. An unlock must echo the nonce of the latest check-in. */
  nonce: string;
};

/** Check-in report as POSTed: the body signed by the box's identity key. */
export type CheckInReport = SignedEnvelope<CheckInBody>;

/** Generates a fresh check-in nonce: {@link NONCE_BYTES} random bytes in lowercase hex. */
export function generateNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  return Buffer.from(bytes).toString("hex");
}

/** Builds and signs a check-in report with the box's identity key. */
export function signCheckIn(body: Omit<CheckInBody, "type">, identity: Ed25519KeyPair): CheckInReport {
  return signEnvelope({ type: CHECK_IN_TYPE, ...body }, identity);
}

/**
 * POSTs a check-in report as JSON to `url`. Raises {@link CheckInFailed} on a
 * connection error, after `timeoutMs` ms, or on a non-2xx status. The response
 * body is not read.
 */
export async function postCheckIn(url: string, report: CheckInReport, timeoutMs: number): Promise<number> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(report),
      signal: AbortSignal.timeout(timeoutMs),
      redirect: "error",
    });
  } catch (error) {
    const detail = (error as Error).name === "TimeoutError" ? `timed out after checkInTimeoutMs (${timeoutMs} ms)` : String(error);
    throw new CheckInFailed(url, null, detail);
  }

  await response.body?.cancel();
  if (!response.ok) {
    throw new CheckInFailed(url, response.status, `HTTP status ${response.status}`);
  }

  return response.status;
}

/**
 * Checks a check-in report received by the lock authority and returns its
 * body. When `devicePublicKey` is given, the report must carry a valid
 * signature by that key. Without it only the shape is checked. Raises
 * {@link CheckInInvalid}.
 */
export function readCheckIn(value: unknown, devicePublicKey?: Ed25519PublicKey): CheckInBody {
  const report = value as Partial<CheckInReport> | null;
  const body = report?.signed as Partial<CheckInBody> | undefined;
  if (typeof body !== "object" || body === null || body.type !== CHECK_IN_TYPE) {
    throw new CheckInInvalid("signed.type", `must be "${CHECK_IN_TYPE}"`);
  }

  if (!isDeviceId(body.deviceId)) {
    throw new CheckInInvalid("signed.deviceId", "is missing or invalid");
  }

  if (!isNonce(body.nonce)) {
    throw new CheckInInvalid("signed.nonce", `must be ${NONCE_BYTES * 2} lowercase hex digits`);
  }

  if (devicePublicKey !== undefined) {
    verifyCheckInSignature(report as CheckInReport, devicePublicKey);
  }

  return body as CheckInBody;
}

function verifyCheckInSignature(report: CheckInReport, devicePublicKey: Ed25519PublicKey): void {
  const keyId = keyIdOf(devicePublicKey);
  const signatures = Array.isArray(report.signatures) ? report.signatures : [];
  let message: Uint8Array;
  try {
    message = canonicalBytes(report.signed);
  } catch (error) {
    if (error instanceof CanonicalJsonError) {
      throw new CheckInInvalid("signed", "has no canonical JSON form (floats are not allowed)");
    }
    throw error;
  }

  const publicKey = publicKeyBytes(devicePublicKey);

  const valid = signatures.some(
    (signature) => signature?.keyid === keyId && typeof signature.sig === "string" && verifySignature(signature.sig, message, publicKey),
  );
  if (!valid) {
    throw new CheckInInvalid("signatures", `contain no valid signature by the device key ${keyId}`);
  }
}
