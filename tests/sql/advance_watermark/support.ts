import type { Queryable } from '../../helpers/db.ts'

/** Calls tollgate_private.advance_watermark for a Stripe object; moments as ISO text. */
export const advance = async (
  q: Queryable,
  objectType: string,
  providerId: string,
  at: string,
  eventId: string,
  link: { localId?: string; userId?: string; parentId?: string } = {},
): Promise<boolean> => {
  const [row] = await q<{ applied: boolean }[]>`
    select tollgate_private.advance_watermark(
      'stripe', ${objectType}, ${providerId}, ${at}::timestamptz, ${eventId},
      ${link.localId ?? null}::uuid, ${link.userId ?? null}::uuid, ${link.parentId ?? null}
    ) as applied`
  if (!row) throw new Error('no result')
  return row.applied
}

/** The watermark and link of a Stripe object's provider_refs row, or undefined. */
export const refOf = async (q: Queryable, objectType: string, providerId: string) => {
  const [row] = await q<
    {
      local_id: string | null
      user_id: string | null
      parent_id: string | null
      last_event_at: string | null
      last_event_id: string | null
    }[]
  >`
    select local_id, user_id, parent_id,
      to_char(last_event_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as last_event_at,
      last_event_id
    from tollgate_private.provider_refs
    where provider = 'stripe' and object_type = ${objectType} and provider_id = ${providerId}`
  return row
}
