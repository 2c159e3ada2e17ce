/** Who is asking: the identity the gateway verified and passes to every subgraph. */
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
