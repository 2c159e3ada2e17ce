/**
 * Proof of origin between the gateway and the subgraphs.
 *
 * The gateway signs the verified identity into a short-lived HS256 token with a secret shared only
 * by the services (GATEWAY_PROOF_SECRET) and sends it in the `x-gateway-proof` header. A subgraph
 * accepts a request only with a valid proof, so a user JWT alone never reaches a subgraph's data.
 */
import { jwtVerify, SignJWT } from 'jose';
import { parseRoles, type Identity } from './identity.js';

export const PROOF_HEADER = 'x-gateway-proof';
const ISSUER = 'marketing-gateway';
const AUDIENCE = 'marketing-subgraph';
const LIFETIME_SECONDS = 60;

export class GatewayProof {
  private readonly key: Uint8Array;
  private cache = new Map<string, { token: string; expiresAt: number }>();

  constructor(secret: string) {
    this.key = new TextEncoder().encode(secret);
  }

  /** Signs an identity; tokens are reused until half their lifetime has passed. */
  async sign(identity: Identity): Promise<string> {
    const cacheKey = `${identity.sub}\u0000${identity.roles.join(',')}`;
    const now = Date.now();
    const hit = this.cache.get(cacheKey);
    if (hit && hit.expiresAt - now > (LIFETIME_SECONDS * 1000) / 2) return hit.token;
    const token = await new SignJWT({ roles: identity.roles })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(identity.sub)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${LIFETIME_SECONDS}s`)
      .sign(this.key);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(cacheKey, { token, expiresAt: now + LIFETIME_SECONDS * 1000 });
    return token;
  }

  /** Returns the identity, or null when the proof is missing, forged or expired. */
  async verify(token: string | undefined): Promise<Identity | null> {
    if (!token) return null;
    try {
      const { payload } = await jwtVerify(token, this.key, {
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: ['HS256'],
      });
      if (typeof payload.sub !== 'string') return null;
      return { sub: payload.sub, roles: parseRoles(payload.roles) };
    } catch {
      return null;
    }
  }
}
