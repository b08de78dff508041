// Access tokens: HS256 JWTs (jose) carrying user, tenant and email; algorithm, issuer and audience pinned.
import { jwtVerify, SignJWT } from "jose";
import { z } from "zod";
import type { Config } from "../config.ts";
import type { AuthUser } from "../env.ts";
import { TENANT_ID_PATTERN } from "../lib/tenant-id.ts";

export const TOKEN_TTL_SECONDS = 7 * 24 * 3600;

const key = (config: Config) => new TextEncoder().encode(config.JWT_SECRET);

// A signed token is still checked for shape: its claims go into SQL (a non-uuid sub would fail there, as a 500).
const Claims = z.object({ sub: z.uuid(), tid: z.string().regex(TENANT_ID_PATTERN), email: z.string(), exp: z.number() });

/** Who a verified token names; its role claim is informational: authentication reads the current role. */
export type TokenSubject = Omit<AuthUser, "role" | "apiKey"> & { expiresAt: number };

export async function issueAccessToken(config: Config, user: Pick<AuthUser, "id" | "tenantId" | "email" | "role">): Promise<string> {
  return new SignJWT({ tid: user.tenantId, email: user.email, role: user.role })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(user.id)
    .setIssuer(config.JWT_ISSUER)
    .setAudience(config.JWT_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + TOKEN_TTL_SECONDS)
    .sign(key(config));
}

/** Throws when the token is expired, tampered, of another algorithm, issuer or audience, or its claims are malformed. */
export async function verifyAccessToken(config: Config, token: string): Promise<TokenSubject> {
  const { payload } = await jwtVerify(token, key(config), {
    algorithms: ["HS256"],
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    requiredClaims: ["sub", "exp", "tid", "email"],
  });
  const claims = Claims.safeParse(payload);
  if (!claims.success) throw new Error("malformed claims");
  return { id: claims.data.sub, tenantId: claims.data.tid, email: claims.data.email, expiresAt: claims.data.exp };
}
