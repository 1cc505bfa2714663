import { randomUUID } from 'node:crypto'
import { SignJWT } from 'jose'
import type postgres from 'postgres'

/** A row of auth.users as Supabase Auth reads it into a token. */
export type AuthUser = {
  id: string
  email: string
  phone: string | null
  app_metadata: Record<string, unknown>
  user_metadata: Record<string, unknown>
}

/** The access-token claims Supabase Auth issues for a password sign-in. */
export type AccessClaims = {
  iss: string
  sub: string
  aud: 'authenticated'
  exp: number
  iat: number
  email: string
  phone: string
  app_metadata: Record<string, unknown>
  user_metadata: Record<string, unknown>
  role: 'authenticated'
  aal: 'aal1'
  amr: { method: string; timestamp: number }[]
  session_id: string
  is_anonymous: false
}

// Supabase Auth's single-tenant instance id.
const INSTANCE_ID = '00000000-0000-0000-0000-000000000000'

/**
 * Finds the email user (Supabase Auth keeps emails lower-case) or creates it confirmed, and makes
 * `app_metadata.role` 'admin' or absent as `admin` says; one transaction.
 */
export const ensureUser = async (
  sql: postgres.Sql,
  email: string,
  options: { admin?: boolean } = {},
): Promise<AuthUser & { created: boolean }> => {
  const address = email.trim().toLowerCase()
  const role = options.admin ? { role: 'admin' } : {}
  return sql.begin(async (tx) => {
    // Two requests for a new email must not create it twice (auth.users.email is not unique here).
    const key = `tollgate:user:${address}`
    await tx`select pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext(${key}))`
    const [existing] = await tx<{ id: string }[]>`
      select id from auth.users where lower(email) = ${address} order by created_at limit 1`
    const [user] = existing
      ? await tx<AuthUser[]>`
          update auth.users set
            raw_app_meta_data = (coalesce(raw_app_meta_data, '{}') - 'role') || ${tx.json(role)},
            updated_at = now()
          where id = ${existing.id}
          returning id, email, phone, coalesce(raw_app_meta_data, '{}') as app_metadata,
            coalesce(raw_user_meta_data, '{}') as user_metadata`
      : await tx<AuthUser[]>`
          insert into auth.users (
            id, instance_id, aud, role, email, encrypted_password, email_confirmed_at,
            raw_app_meta_data, raw_user_meta_data, created_at, updated_at
          ) values (
            ${randomUUID()}, ${INSTANCE_ID}, 'authenticated', 'authenticated', ${address}, '',
            now(),
            ${tx.json({ provider: 'email', providers: ['email'], ...role })}, '{}', now(), now()
          )
          returning id, email, phone, raw_app_meta_data as app_metadata,
            raw_user_meta_data as user_metadata`
    if (!user) throw new Error(`no auth.users row for ${address}`)
    return { ...user, created: !existing }
  })
}

/** The claims of a fresh password session of `user`, valid `expiresIn` seconds. */
export const accessClaims = (
  user: AuthUser,
  options: { issuer: string; expiresIn?: number; now?: Date },
): AccessClaims => {
  const iat = Math.floor((options.now ?? new Date()).getTime() / 1000)
  return {
    iss: options.issuer,
    sub: user.id,
    aud: 'authenticated',
    exp: iat + (options.expiresIn ?? 3600),
    iat,
    email: user.email,
    phone: user.phone ?? '',
    app_metadata: user.app_metadata,
    user_metadata: user.user_metadata,
    role: 'authenticated',
    aal: 'aal1',
    amr: [{ method: 'password', timestamp: iat }],
    session_id: randomUUID(),
    is_anonymous: false,
  }
}

/** Signs claims as Supabase Auth does with a project's legacy JWT secret (HS256). */
export const signAccessToken = (claims: AccessClaims, secret: string): Promise<string> =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .sign(new TextEncoder().encode(secret))
