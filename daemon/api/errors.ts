/**
 * Error responses of the admin API: JSON `{error, message}` with the HTTP
 * status of who is at fault. The caller sent a bad request (400, 401, 404,
 * 409), the box is locked (423), or the update repository sent bad data or
 * could not be reached (502). Anything else is logged and answered with a
 * bare 500.
 */
import { BadMarkNotFound, DowngradeNotConfirmed, NothingToInstall, UpdatesOff } from "../../update/service.ts";
import {
  CallerError as InstallCallerError,
  InstallError,
  LocalError,
  ReleaseMarkedBad,
  RemoteDataError,
  TransportError as InstallTransportError,
} from "../../update/install/index.ts";
import { DeviceLocked } from "../../update/lock/index.ts";
import { InvalidArgument, UpdateError } from "../../update/tuf/errors.ts";

/** A request the caller must change; its message names the value and the fix. */
export class ApiRequestInvalid extends Error {
  override readonly name = "ApiRequestInvalid";

  constructor(
    readonly field: string,
    readonly detail: string,
  ) {
    super(`Invalid ${field}: ${detail}.`);
  }
}

/** Status and JSON body of an error response. */
export interface ErrorAnswer {
  status: 400 | 404 | 409 | 423 | 502 | 507;
  body: Record<string, unknown> & { error: string; message: string };
}

/** Maps a known error to its response, or returns undefined for an unexpected one. */
export function errorAnswer(error: unknown): ErrorAnswer | undefined {
  if (!(error instanceof Error)) {
    return undefined;
  }

  const body = { error: error.name, message: error.message };
  if (error instanceof DeviceLocked) {
    return { status: 423, body: { ...body, action: error.action, sequence: error.sequence, lockMessage: error.statusMessage, contact: error.contact } };
  }
  if (error instanceof ApiRequestInvalid) {
    return { status: 400, body: { ...body, field: error.field } };
  }
  if (error instanceof DowngradeNotConfirmed) {
    return { status: 409, body: { ...body, version: error.version, installed: error.installed } };
  }
  if (error instanceof NothingToInstall) {
    return { status: 409, body: { ...body, reason: error.reason } };
  }
  if (error instanceof UpdatesOff) {
    return { status: 409, body };
  }
  if (error instanceof BadMarkNotFound) {
    return { status: 404, body: { ...body, version: error.version, marked: error.marked } };
  }
  if (error instanceof ReleaseMarkedBad) {
    return { status: 409, body: { ...body, version: error.version, reason: error.reason } };
  }
  if (error instanceof UpdateError) {
    return updateErrorAnswer(error, body);
  }
  if (error instanceof InstallError) {
    return installErrorAnswer(error, body);
  }
  return undefined;
}

function updateErrorAnswer(error: UpdateError, body: ErrorAnswer["body"]): ErrorAnswer {
  if (error instanceof InvalidArgument) {
    return { status: 400, body: { ...body, fault: error.fault } };
  }

  // Repository and transport faults are the remote side's; clock and caller faults need the user.
  const status = error.fault === "repository" || error.fault === "transport" ? 502 : 409;
  return { status, body: { ...body, fault: error.fault } };
}

function installErrorAnswer(error: InstallError, body: ErrorAnswer["body"]): ErrorAnswer | undefined {
  if (error instanceof InstallCallerError) {
    return { status: 409, body };
  }
  if (error instanceof RemoteDataError || error instanceof InstallTransportError) {
    return { status: 502, body };
  }
  if (error instanceof LocalError) {
    return { status: 507, body };
  }
  return undefined;
}
