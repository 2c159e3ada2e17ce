/** Who is asking: the identity the gateway verified and passes to every subgraph. */
import { ForbiddenError } from '../errors.js';
export const ROLES = ['viewer', 'analyst', 'marketer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface Identity {
  /** The JWT subject, or `system:<service>` for service-to-service calls. */
  sub: string;
  roles: Role[];
}

export const ANONYMOUS: Identity = { sub: 'anonymous', roles: [] };

export function parseRoles(value: unknown): Role[] {
  if (!Array.isArray(value)) return [];
  return value.filter((r): r is Role => (ROLES as readonly string[]).includes(r as string));
}

/** Each role includes the ones before it: viewer < analyst < marketer < admin. */
export function hasRole(identity: Identity, role: Role): boolean {
  const needed = ROLES.indexOf(role);
  return identity.roles.some((r) => ROLES.indexOf(r) >= needed);
}

/** Throws FORBIDDEN unless `identity` has `role` (or a role above it). */
export function requireRole(identity: Identity, role: Role, action: string): void {
  if (!hasRole(identity, role)) {
    throw new ForbiddenError(`${action} needs the ${role} role`);
  }
}
