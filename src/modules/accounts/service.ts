import type { Db } from '../../context.js';
import { isPlainObject, parseJson, toJson, type JsonObject } from '../../db/json.js';
import type { Row } from '../../db/types.js';
import { now } from '../../db/time.js';
import { notFound, RecordErrors } from '../../lib/errors.js';
import { isRecordId } from '../../lib/params.js';

export type AccountRow = Row<'accounts'>;

/** Features a new account has switched on (Chatwoot's config/features.yml, enabled: true). */
export const DEFAULT_FEATURES = [
  'inbound_emails', 'channel_email', 'channel_facebook', 'help_center', 'agent_bots', 'macros', 'agent_management',
  'team_management', 'inbox_management', 'labels', 'custom_attributes', 'automations', 'canned_responses', 'integrations',
  'voice_recorder', 'channel_website', 'campaigns', 'reports', 'crm', 'auto_resolve_conversations', 'chatwoot_v4',
  'contact_chatwoot_support_team', 'channel_instagram', 'channel_tiktok',
] as const;

export const ACCOUNT_STATUS = { active: 0, suspended: 1 } as const;
export const accountStatusName = (s: number): 'active' | 'suspended' => (s === 1 ? 'suspended' : 'active');

export interface AccountInput {
  name?: string;
  locale?: string;
  domain?: string | null;
  support_email?: string | null;
  status?: string;
  features?: Record<string, unknown>;
  limits?: JsonObject;
  custom_attributes?: JsonObject;
  settings?: JsonObject;
}

function validate(input: AccountInput, creating: boolean): RecordErrors {
  const errors = new RecordErrors();
  if (creating || input.name !== undefined) {
    if (typeof input.name !== 'string' || input.name.trim() === '') errors.add('name', "can't be blank");
    else if (input.name.length > 255) errors.add('name', 'is too long (maximum is 255 characters)');
  }
  if (input.domain && input.domain.length > 100) errors.add('domain', 'is too long (maximum is 100 characters)');
  if (input.support_email && input.support_email.length > 100) errors.add('support_email', 'is too long (maximum is 100 characters)');
  if (input.status !== undefined && !['active', 'suspended'].includes(input.status)) errors.add('status', 'is not included in the list');
  if (input.locale !== undefined && !/^[a-z]{2,3}(_[A-Za-z]{2,4})?$/.test(input.locale)) errors.add('locale', 'is not included in the list');
  for (const key of ['limits', 'custom_attributes', 'settings', 'features'] as const) {
    if (input[key] !== undefined && !isPlainObject(input[key])) errors.add(key, 'must be an object');
  }
  return errors;
}

/** Feature toggles as Chatwoot's update_resource_features: a present value enables, a blank one disables. */
function applyFeatures(current: JsonObject, toggles: Record<string, unknown> | undefined): JsonObject {
  if (!toggles) return current;
  const out = { ...current };
  for (const [key, value] of Object.entries(toggles)) {
    const on = value !== false && value !== null && value !== '' && value !== 'false' && value !== 0;
    if (on) out[key] = true;
    else delete out[key];
  }
  return out;
}

export async function createAccount(db: Db, input: AccountInput): Promise<AccountRow> {
  validate(input, true).throwIfAny();
  const t = now();
  const features = applyFeatures(Object.fromEntries(DEFAULT_FEATURES.map((f) => [f, true])), input.features);
  return db
    .insertInto('accounts')
    .values({
      name: input.name!.trim(),
      locale: input.locale ?? 'en',
      domain: input.domain ?? null,
      support_email: input.support_email ?? null,
      status: input.status === 'suspended' ? 1 : 0,
      features: toJson(features),
      limits: toJson(input.limits ?? {}),
      custom_attributes: toJson(input.custom_attributes ?? {}),
      settings: toJson(input.settings ?? {}),
      created_at: t,
      updated_at: t,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findAccount(db: Db, id: number): Promise<AccountRow> {
  if (!isRecordId(id)) throw notFound();
  const row = await db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound();
  return row;
}

/**
 * Platform semantics replace limits/custom_attributes wholesale (Rails assign_attributes);
 * `merge` (the account settings page) merges custom_attributes and settings instead.
 */
export async function updateAccount(db: Db, account: AccountRow, input: AccountInput, mode: 'replace' | 'merge'): Promise<AccountRow> {
  validate(input, false).throwIfAny();
  const custom = parseJson<JsonObject>(account.custom_attributes, {});
  const settings = parseJson<JsonObject>(account.settings, {});
  return db
    .updateTable('accounts')
    .set({
      ...(input.name !== undefined ? { name: input.name.trim() } : {}),
      ...(input.locale !== undefined ? { locale: input.locale } : {}),
      ...(input.domain !== undefined ? { domain: input.domain } : {}),
      ...(input.support_email !== undefined ? { support_email: input.support_email } : {}),
      ...(input.status !== undefined ? { status: input.status === 'suspended' ? 1 : 0 } : {}),
      ...(input.limits !== undefined ? { limits: toJson(input.limits) } : {}),
      ...(input.custom_attributes !== undefined
        ? { custom_attributes: toJson(mode === 'merge' ? { ...custom, ...input.custom_attributes } : input.custom_attributes) }
        : {}),
      ...(input.settings !== undefined ? { settings: toJson(mode === 'merge' ? { ...settings, ...input.settings } : input.settings) } : {}),
      ...(input.features !== undefined ? { features: toJson(applyFeatures(parseJson<JsonObject>(account.features, {}), input.features)) } : {}),
      updated_at: now(),
    })
    .where('id', '=', account.id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function deleteAccount(db: Db, account: AccountRow): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('platform_app_permissibles').where('permissible_type', '=', 'Account').where('permissible_id', '=', account.id).execute();
    await trx.deleteFrom('accounts').where('id', '=', account.id).execute();
  });
}
