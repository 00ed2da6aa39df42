import { CanonicalJsonError, canonicalJson } from "./canonical-json.ts";
import { DEVICE_ID_PATTERN, NONCE_BYTES, STATEMENT_TYPE, type LockLimits } from "./constants.ts";
import { StatementMalformed } from "./errors.ts";
import type { SignedEnvelope } from "./keys.ts";

/** State a statement sets: `locked` stops updates and service, `unlocked` lifts the lock. */
export type LockStateName = "locked" | "unlocked";

/**
 * Signed part of a lock or unlock statement. The lock authority signs its
 * canonical JSON with the lock key, a key used for nothing else.
 */
export type LockStatementBody = {
  type: typeof STATEMENT_TYPE;
  /** Device the statement is bound to. */
  deviceId: string;
  state: LockStateName;
  /** Per-device sequence number. Each new statement for a device has a higher one. */
  sequence: number;
  /** Nonce of the box's latest check-in, in hex. An unlock requires it and a lock ignores it. */
  nonce?: string;
  /** Text shown while locked, for example "Reported stolen. Return to ...". */
  message: string;
  /** Whom to contact, shown while locked. */
  contact: string;
};

/** Lock or unlock statement as served at `lock/<deviceId>.json`. */
export type LockStatement = SignedEnvelope<LockStatementBody>;

const NONCE_PATTERN = new RegExp(`^[0-9a-f]{${NONCE_BYTES * 2}}$`);
const KEY_ID_PATTERN = /^[0-9a-f]{64}$/;

/** Returns whether `value` is a well-formed check-in nonce (lowercase hex of {@link NONCE_BYTES} bytes). */
export function isNonce(value: unknown): value is string {
  return typeof value === "string" && NONCE_PATTERN.test(value);
}

/** Returns whether `value` can be used as a device ID (and so as a repository file name). */
export function isDeviceId(value: unknown): value is string {
  return typeof value === "string" && DEVICE_ID_PATTERN.test(value);
}

/**
 * Parses the bytes of a statement and checks its shape. It does not check the
 * signature or the device binding, which {@link LockPolicy.apply} does. Unknown
 * fields inside `signed` are kept because the signature covers them.
 */
export function parseStatement(bytes: Uint8Array, limits: Pick<LockLimits, "maxTextLength">): LockStatement {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw new StatementMalformed("body", "is not valid UTF-8 JSON");
  }

  const envelope = requireObject(value, "body");
  const signatures = parseSignatures(envelope.signatures);
  const signed = requireObject(envelope.signed, "signed");

  if (signed.type !== STATEMENT_TYPE) {
    throw new StatementMalformed("signed.type", `must be "${STATEMENT_TYPE}", got ${JSON.stringify(signed.type)}`);
  }

  if (!isDeviceId(signed.deviceId)) {
    throw new StatementMalformed("signed.deviceId", `must match ${DEVICE_ID_PATTERN}, got ${JSON.stringify(signed.deviceId)}`);
  }

  if (signed.state !== "locked" && signed.state !== "unlocked") {
    throw new StatementMalformed("signed.state", `must be "locked" or "unlocked", got ${JSON.stringify(signed.state)}`);
  }

  // Sequence numbers start at 1, because 0 is the stored value of a box that never applied a statement.
  if (typeof signed.sequence !== "number" || !Number.isSafeInteger(signed.sequence) || signed.sequence < 1) {
    throw new StatementMalformed("signed.sequence", `must be an integer from 1 to 2^53-1, got ${JSON.stringify(signed.sequence)}`);
  }

  if (signed.nonce !== undefined && !isNonce(signed.nonce)) {
    throw new StatementMalformed("signed.nonce", `must be ${NONCE_BYTES * 2} lowercase hex digits`);
  }

  requireText(signed.message, "signed.message", limits.maxTextLength);
  requireText(signed.contact, "signed.contact", limits.maxTextLength);

  // A lock must tell the holder whom to contact, but an unlock may leave both texts empty.
  if (signed.state === "locked" && (signed.message === "" || signed.contact === "")) {
    throw new StatementMalformed("signed.contact", "and signed.message must not be empty in a lock");
  }

  // The signature covers the canonical form, so a body without one (a float in an unknown field) cannot be verified.
  try {
    canonicalJson(signed);
  } catch (error) {
    if (error instanceof CanonicalJsonError) {
      throw new StatementMalformed(error.path.replace(/^\$/, "signed"), "has no canonical JSON form (floats are not allowed)");
    }
    throw error;
  }

  return { signed: signed as LockStatementBody, signatures };
}

function parseSignatures(value: unknown): LockStatement["signatures"] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new StatementMalformed("signatures", "must be a non-empty array");
  }

  return value.map((item, index) => {
    const signature = requireObject(item, `signatures[${index}]`);
    if (typeof signature.keyid !== "string" || !KEY_ID_PATTERN.test(signature.keyid)) {
      throw new StatementMalformed(`signatures[${index}].keyid`, "must be 64 lowercase hex digits");
    }

    if (typeof signature.sig !== "string") {
      throw new StatementMalformed(`signatures[${index}].sig`, "must be a hex string");
    }

    return { keyid: signature.keyid, sig: signature.sig };
  });
}

function requireObject(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new StatementMalformed(field, "must be a JSON object");
  }

  return value as Record<string, unknown>;
}

function requireText(value: unknown, field: string, maxLength: number): void {
  if (typeof value !== "string") {
    throw new StatementMalformed(field, "must be a string");
  }

  if (value.length > maxLength) {
    throw new StatementMalformed(field, `is longer than maxTextLength (${maxLength} characters)`);
  }
}
