import { parseJson, type JsonObject } from '../../db/json.js';
import { isoTime } from '../../db/time.js';
import { accountStatusName, type AccountRow } from './service.js';

const CUSTOM_ATTRIBUTE_KEYS_ALWAYS = ['plan_name', 'subscribed_quantity', 'subscription_status', 'subscription_ends_on'];
const CUSTOM_ATTRIBUTE_KEYS_IF_PRESENT = [
  'industry', 'company_size', 'timezone', 'logo', 'onboarding_step', 'marked_for_deletion_at', 'marked_for_deletion_reason',
];

/** api/v1/models/_account.json.jbuilder */
export function presentAccount(account: AccountRow): Record<string, unknown> {
  const custom = parseJson<JsonObject>(account.custom_attributes, {});
  const out: Record<string, unknown> = {
    settings: parseJson<JsonObject>(account.settings, {}),
    created_at: isoTime(account.created_at),
  };
  if (Object.keys(custom).length > 0) {
    const shown: JsonObject = {};
    for (const k of CUSTOM_ATTRIBUTE_KEYS_ALWAYS) shown[k] = custom[k] ?? null;
    for (const k of CUSTOM_ATTRIBUTE_KEYS_IF_PRESENT) if (custom[k] !== undefined && custom[k] !== null && custom[k] !== '') shown[k] = custom[k];
    out.custom_attributes = shown;
  }
  Object.assign(out, {
    domain: account.domain,
    features: parseJson<JsonObject>(account.features, {}),
    id: account.id,
    locale: account.locale,
    name: account.name,
    support_email: account.support_email,
    status: accountStatusName(account.status),
    cache_keys: { label: account.updated_at, inbox: account.updated_at, team: account.updated_at },
  });
  return out;
}

/** platform/api/v1/models/_account.json.jbuilder */
export function presentPlatformAccount(account: AccountRow): Record<string, unknown> {
  return {
    id: account.id,
    name: account.name,
    locale: account.locale,
    domain: account.domain,
    support_email: account.support_email,
    features: parseJson<JsonObject>(account.features, {}),
    custom_attributes: parseJson<JsonObject>(account.custom_attributes, {}),
    limits: parseJson<JsonObject>(account.limits, {}),
    status: accountStatusName(account.status),
  };
}
