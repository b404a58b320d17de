/**
 * Access tokens: short-lived HS256 JWTs (jose) naming the user (`sub`) and
 * the session (`sid`). Verification pins the algorithm, issuer and audience,
 * so `alg: none`, foreign or mis-addressed tokens never pass.
 */
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { ApiError } from '../errors.ts';
import { uuidv7 } from '../../lib/ids.ts';

const ALG = 'HS256';

function key(env: Env): Uint8Array {
  return new TextEncoder().encode(env.JWT_SECRET);
}

export function accessTtl(env: Env): number {
  return Number(env.ACCESS_TOKEN_TTL);
}

export async function signAccessToken(env: Env, userId: string, sessionId: string): Promise<string> {
  return new SignJWT({ sid: sessionId })
    .setProtectedHeader({ alg: ALG, typ: 'JWT' })
    .setSubject(userId)
    .setJti(uuidv7())
    .setIssuer(env.JWT_ISSUER)
    .setAudience(env.JWT_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${accessTtl(env)}s`)
    .sign(key(env));
}

export async function verifyAccessToken(env: Env, token: string): Promise<{ userId: string; sessionId: string }> {
  try {
    const { payload } = await jwtVerify(token, key(env), {
      algorithms: [ALG],
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      requiredClaims: ['sub', 'exp', 'sid'],
    });
    if (typeof payload.sub !== 'string' || typeof payload.sid !== 'string') throw new ApiError('unauthenticated', 'Malformed token');
    return { userId: payload.sub, sessionId: payload.sid };
  } catch (err) {
    if (err instanceof ApiError) throw err;
    if (err instanceof joseErrors.JWTExpired) throw new ApiError('token_expired', 'Access token expired');
    throw new ApiError('unauthenticated', 'Invalid access token');
  }
}
