import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { canonicalBytes } from "./canonical-json.ts";
import {
  StatementReplayed,
  StatementSignatureInvalid,
  StatementUntrustedKey,
  StatementWrongDevice,
  UnlockNonceMismatch,
} from "./errors.ts";
import { keyIdOf, publicKeyBytes, verifySignature, type Ed25519PublicKey } from "./keys.ts";
import type { LockStateName, LockStatement } from "./statement.ts";

/**
 * Lock state of one box, as persisted in `lock.json`. It contains no time,
 * because the lock has no expiry and ignores the wall clock. Setting the
 * clock therefore changes nothing.
 */
export type LockState = {
  deviceId: string;
  state: LockStateName;
  /** Sequence of the last applied statement, or 0 before the first one. */
  sequence: number;
  message: string;
  contact: string;
  /** SHA-256 of the canonical `signed` part of the last applied statement, to recognise a re-send. */
  statementDigest: string | null;
};

/** Result of {@link LockPolicy.apply}. `unchanged` means an identical re-send of the applied statement. */
export type ApplyOutcome = { kind: "applied"; state: LockState } | { kind: "unchanged"; state: LockState };

/** Returns the state of a box that has never applied a statement: unlocked, sequence 0. */
export function initialLockState(deviceId: string): LockState {
  return { deviceId, state: "unlocked", sequence: 0, message: "", contact: "", statementDigest: null };
}

/**
 * Rules for accepting a lock or unlock statement. The policy does no I/O and
 * reads no clock, because the caller fetches, persists and logs. A statement
 * is applied only if
 * 1. it carries a valid signature by the lock authority key, the one key of the lock role;
 * 2. it is bound to this box's device ID;
 * 3. its sequence is greater than the stored one (an equal sequence is accepted only as an identical re-send);
 * 4. for an unlock, it carries the nonce of one of the box's latest check-ins,
 *    at most `nonceWindowCheckIns` (8 by default) check-ins back.
 * Each rule raises its own {@link LockStatementRejected} subclass.
 *
 * The window in rule 4 exists because the box checks in at every refresh,
 * including refreshes that refused calls trigger while locked, so the nonce
 * the lock authority read a moment ago may already be one check-in old.
 * Replay protection does not rest on the window. Rule 3 still rejects any
 * statement whose sequence is not above the applied one, so an applied
 * unlock cannot be replayed. An unlock held back for more check-ins than
 * the window is rejected by rule 4.
 */
export class LockPolicy {
  readonly authorityKeyId: string;
  private readonly authorityPublicKey: Uint8Array;

  constructor(readonly deviceId: string, authorityKey: Ed25519PublicKey) {
    this.authorityKeyId = keyIdOf(authorityKey);
    this.authorityPublicKey = publicKeyBytes(authorityKey);
  }

  /**
   * Checks `statement` against `current` and returns the state to persist.
   * `recentNonces` are the nonces of the latest check-ins, newest first, and
   * empty if the box has not checked in since it was provisioned.
   */
  apply(current: LockState, statement: LockStatement, recentNonces: readonly string[]): ApplyOutcome {
    const signedBytes = canonicalBytes(statement.signed);

    // Rule 1: only the lock authority key counts. Keys of the update repository's
    // roles (root, timestamp, snapshot, targets) are other keys and are rejected here.
    const candidates = statement.signatures.filter((signature) => signature.keyid === this.authorityKeyId);
    if (candidates.length === 0) {
      throw new StatementUntrustedKey(
        statement.signatures.map((signature) => signature.keyid),
        this.authorityKeyId,
      );
    }

    const verified = candidates.some((signature) => verifySignature(signature.sig, signedBytes, this.authorityPublicKey));
    if (!verified) {
      throw new StatementSignatureInvalid(this.authorityKeyId);
    }

    // Rule 2: a statement for another box must not lock or unlock this one.
    const body = statement.signed;
    if (body.deviceId !== this.deviceId) {
      throw new StatementWrongDevice(this.deviceId, body.deviceId);
    }

    // Rule 3: the sequence only increases, so an older lock or unlock cannot be replayed.
    // The repository serves the same file until the next statement, so an identical
    // re-send of the applied statement is expected and changes nothing.
    const digest = bytesToHex(sha256(signedBytes));
    if (body.sequence === current.sequence && digest === current.statementDigest) {
      return { kind: "unchanged", state: current };
    }

    if (body.sequence <= current.sequence) {
      throw new StatementReplayed(current.sequence, body.sequence);
    }

    // Rule 4: an unlock must be fresh. The nonce of a recent check-in proves the lock
    // authority issued it after that check-in, so a captured unlock cannot be held back
    // and delivered much later. A replayed lock is at worst a denial of service, and
    // rule 3 already stops it, so a lock needs no nonce.
    if (body.state === "unlocked" && (body.nonce === undefined || !recentNonces.includes(body.nonce))) {
      throw new UnlockNonceMismatch(recentNonces[0] ?? null, body.nonce ?? null, recentNonces.length);
    }

    return {
      kind: "applied",
      state: {
        deviceId: this.deviceId,
        state: body.state,
        sequence: body.sequence,
        message: body.message,
        contact: body.contact,
        statementDigest: digest,
      },
    };
  }
}
