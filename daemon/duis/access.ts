import matrix from "./request-matrix.json" with { type: "json" };
import type { Eui } from "./eui.ts";

/** DUIS user roles: Import Supplier, Export Supplier, Gas Supplier, Electricity Distributor, Gas Transporter, Registered Supplier Agent, Other User, and Load Controller. */
export type UserRole = "IS" | "ES" | "GS" | "ED" | "GT" | "RSA" | "OU" | "LC";

/** One service reference variant of the DUIS request matrix. */
export interface ServiceVariant {
  name: string;
  serviceReference: string;
  variant: string;
  critical: boolean;
  nonDevice: boolean;
  eligibleRoles: UserRole[];
}

/**
 * Variants the published request matrix lists with no eligible role. boxd
 * lets these roles send them so that their templates work unchanged:
 * 7.16 Limit APC Level is sent by a load controller, 8.5 and 8.6 (service
 * opt out and in) by a supplier.
 */
const MATRIX_GAPS: Record<string, UserRole[]> = {
  "7.16": ["LC"],
  "8.5": ["IS", "ES", "GS"],
  "8.6": ["IS", "ES", "GS"],
};

/**
 * Returns the service reference of a variant. The published matrix lists
 * "6.2" for variants 6.20.1 and 6.20.2, which belong to 6.20; a variant's
 * reference is always the variant itself or the variant less its last part.
 */
function serviceReferenceOf(listed: string, variant: string): string {
  if (variant === listed || variant.startsWith(`${listed}.`)) return listed;
  return variant.slice(0, variant.lastIndexOf("."));
}

const VARIANTS = new Map<string, ServiceVariant>();
for (const entry of matrix) {
  const variant = entry["Service Reference Variant"];
  const listed = entry["Eligible User Roles"] as UserRole[];
  VARIANTS.set(variant, {
    name: entry["Service Request Name"],
    serviceReference: serviceReferenceOf(entry["Service Reference"], variant),
    variant,
    critical: entry.Critical === "Yes",
    nonDevice: entry["Non-Device Request"] === "Yes",
    eligibleRoles: listed.length > 0 ? listed : (MATRIX_GAPS[variant] ?? []),
  });
}

/** Returns the request-matrix row of a service reference variant, or undefined. */
export function serviceVariant(variant: string): ServiceVariant | undefined {
  return VARIANTS.get(variant);
}

/**
 * The DUIS users boxd knows and the roles of each. The defaults are the
 * ZAZ1 test organisations that DCC Boxed serves. Its test supplier has
 * every supplier role, so that every template works unchanged.
 */
export const DEFAULT_USER_ROLES: Record<string, UserRole[]> = {
  "90B3D51F30010000": ["IS", "ES", "GS", "RSA", "OU"],
  "90B3D51F30030000": ["IS", "ES", "GS"],
  "90B3D51F30020000": ["ED", "GT"],
  "90B3D51F30000002": ["IS", "GS", "ED", "GT"],
  "90B3D51F30010008": ["LC"],
  "00DB123456780004": ["OU"],
};

/**
 * Access control (DUIS: the user's role must be an eligible user role for
 * the service reference variant). Returns the rejection reason, or
 * undefined when the user may send the request.
 */
export function checkEligibility(
  roles: ReadonlyMap<Eui, readonly UserRole[]>,
  originator: Eui,
  variant: ServiceVariant,
): string | undefined {
  const held = roles.get(originator) ?? [];
  if (held.some((role) => variant.eligibleRoles.includes(role))) return undefined;

  return `user ${originator} holds roles [${held.join(", ")}], none eligible for SRV ${variant.variant} (eligible: ${variant.eligibleRoles.join(", ") || "none"})`;
}
