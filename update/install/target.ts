import { InvalidTarget } from "./errors.ts";

/**
 * A target that the TUF client has verified against signed metadata: the
 * image at `url` must be exactly `length` bytes with SHA-256 `sha256`.
 */
export interface UpdateTarget {
  name: string;
  url: string;
  /** Signed length of the image, in bytes. */
  length: number;
  /** Signed SHA-256 of the image, lowercase hex. */
  sha256: string;
  custom: { version: string; [key: string]: unknown };
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Checks the fields the installer relies on and throws {@link InvalidTarget} naming the first bad one. */
export function assertValidTarget(target: UpdateTarget): void {
  if (typeof target.name !== "string" || target.name.length === 0) {
    throw new InvalidTarget("name", target.name, "a non-empty string");
  }

  if (!Number.isSafeInteger(target.length) || target.length < 0) {
    throw new InvalidTarget("length", target.length, "a non-negative integer number of bytes");
  }

  if (typeof target.sha256 !== "string" || !SHA256_HEX.test(target.sha256)) {
    throw new InvalidTarget("sha256", target.sha256, "64 lowercase hex digits");
  }

  let url: URL;
  try {
    url = new URL(target.url);
  } catch {
    throw new InvalidTarget("url", target.url, "an absolute http or https URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new InvalidTarget("url", target.url, "an absolute http or https URL");
  }

  if (typeof target.custom?.version !== "string" || target.custom.version.length === 0) {
    throw new InvalidTarget("custom.version", target.custom?.version, "a non-empty version string");
  }
}
