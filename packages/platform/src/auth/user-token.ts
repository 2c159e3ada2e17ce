/**
 * Verification of end-user JWTs at the gateway: HS256 with a shared secret, or RS/ES keys from a
 * JWKS URL; `exp` always, `iss` and `aud` when configured. Failures carry a message a client can act on.
 */
import { createRemoteJWKSet, errors, jwtVerify, SignJWT, type JWTVerifyGetKey } from 'jose';
import { UnauthenticatedError } from '../errors.js';
import { parseRoles, type Identity, type Role } from './identity.js';

export interface UserTokenOptions {
  secret?: string;
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
}

export class UserTokenVerifier {
  private readonly key: Uint8Array | JWTVerifyGetKey;

  constructor(private readonly options: UserTokenOptions) {
    if (options.jwksUrl) this.key = createRemoteJWKSet(new URL(options.jwksUrl));
    else if (options.secret) this.key = new TextEncoder().encode(options.secret);
    else throw new Error('UserTokenVerifier needs a secret or a JWKS URL');
  }

  /** Verifies `Authorization: Bearer <jwt>`; no header is the anonymous identity (null). */
  async verifyHeader(header: string | undefined): Promise<Identity | null> {
    if (header === undefined || header === '') return null;
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw new UnauthenticatedError('Authorization header must be "Bearer <token>"');
    return this.verify(match[1]);
  }

  async verify(token: string): Promise<Identity> {
    try {
      const verifyOptions = {
        issuer: this.options.issuer,
        audience: this.options.audience,
        requiredClaims: ['exp', 'sub'],
      };
      const { payload } =
        this.key instanceof Uint8Array
          ? await jwtVerify(token, this.key, { ...verifyOptions, algorithms: ['HS256'] })
          : await jwtVerify(token, this.key, verifyOptions);
      return { sub: payload.sub as string, roles: parseRoles(payload.roles) };
    } catch (error) {
      throw new UnauthenticatedError(describeJwtFailure(error));
    }
  }
}

function describeJwtFailure(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'Token expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    return `Token claim "${error.claim}" is invalid: ${error.reason === 'check_failed' ? 'unexpected value' : error.reason}`;
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'Token signature is invalid';
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid)
    return 'Token is malformed';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'Token algorithm is not allowed';
  if (error instanceof errors.JWKSNoMatchingKey) return 'Token was signed by an unknown key';
  return 'Token could not be verified';
}

/** Signs a user token with an HS256 secret: the dev token printed by `npm start`, and tests. */
export async function signUserToken(
  secret: string,
  claims: {
    sub: string;
    roles: Role[];
    issuer?: string;
    audience?: string;
    expiresIn?: string | number;
  },
): Promise<string> {
  let jwt = new SignJWT({ roles: claims.roles })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(claims.expiresIn ?? '30d');
  if (claims.issuer) jwt = jwt.setIssuer(claims.issuer);
  if (claims.audience) jwt = jwt.setAudience(claims.audience);
  return jwt.sign(new TextEncoder().encode(secret));
}
