import type { Db } from '../../context.js';
import type { PlatformAppPermissiblesTable } from '../../db/types.js';
import { now } from '../../db/time.js';

export type PermissibleType = PlatformAppPermissiblesTable['permissible_type'];

/** Chatwoot's platform_app_permissibles: what a platform app created or was granted. */
export async function grantPermissible(db: Db, platformAppId: number, type: PermissibleType, id: number): Promise<void> {
  const t = now();
  await db
    .insertInto('platform_app_permissibles')
    .values({ platform_app_id: platformAppId, permissible_type: type, permissible_id: id, created_at: t, updated_at: t })
    .onConflict((oc) => oc.columns(['platform_app_id', 'permissible_type', 'permissible_id']).doNothing())
    .execute();
}

export async function isPermissible(db: Db, platformAppId: number, type: PermissibleType, id: number): Promise<boolean> {
  const row = await db
    .selectFrom('platform_app_permissibles')
    .select('id')
    .where('platform_app_id', '=', platformAppId)
    .where('permissible_type', '=', type)
    .where('permissible_id', '=', id)
    .executeTakeFirst();
  return row !== undefined;
}

export async function permissibleIds(db: Db, platformAppId: number, type: PermissibleType): Promise<number[]> {
  const rows = await db
    .selectFrom('platform_app_permissibles')
    .select('permissible_id')
    .where('platform_app_id', '=', platformAppId)
    .where('permissible_type', '=', type)
    .orderBy('id')
    .execute();
  return rows.map((r) => r.permissible_id);
}
