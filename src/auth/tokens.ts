// Access tokens: HS256 JWTs (jose) carrying user, tenant and email; algorithm, issuer and audience pinned.
import { SignJWT, jwtVerify } from "jose";
import type { Config } from "../config.ts";
import type { AuthUser } from "../env.ts";

export const TOKEN_TTL_SECONDS = 7 * 24 * 3600;

const key = (config: Config) => new TextEncoder().encode(config.JWT_SECRET);

export async function issueAccessToken(config: Config, user: AuthUser): Promise<string> {
  return new SignJWT({ tid: user.tenantId, email: user.email })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(user.id)
    .setIssuer(config.JWT_ISSUER)
    .setAudience(config.JWT_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + TOKEN_TTL_SECONDS)
    .sign(key(config));
}

/** Throws (any jose error) when the token is expired, tampered, of another algorithm, issuer or audience. */
export async function verifyAccessToken(config: Config, token: string): Promise<AuthUser> {
  const { payload } = await jwtVerify(token, key(config), {
    algorithms: ["HS256"],
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    requiredClaims: ["sub", "exp", "tid", "email"],
  });
  if (typeof payload.tid !== "string" || typeof payload.email !== "string") throw new Error("malformed claims");
  return { id: payload.sub!, tenantId: payload.tid, email: payload.email };
}
