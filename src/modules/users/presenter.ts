import type { Db } from '../../context.js';
import { parseJson, type JsonObject } from '../../db/json.js';
import { isoTime } from '../../db/time.js';
import { accessTokenOf } from '../../auth/tokens.js';
import { isPresent } from '../../realtime/presence.js';
import { accountStatusName } from '../accounts/service.js';
import { availabilityName, membershipsOf, roleName, type AccountUserRow, type UserRow } from './service.js';

export const availableName = (user: Pick<UserRow, 'display_name' | 'name'>): string =>
  user.display_name && user.display_name.trim() !== '' ? user.display_name : user.name;

/** AvailabilityStatusable#user_availability_status: with auto_offline, absence means offline. */
export function availabilityStatus(m: Pick<AccountUserRow, 'account_id' | 'user_id' | 'availability' | 'auto_offline'>): string {
  const configured = availabilityName(m.availability);
  if (!m.auto_offline) return configured;
  return isPresent(m.account_id, 'User', m.user_id) ? configured : 'offline';
}

type Membership = Awaited<ReturnType<typeof membershipsOf>>[number];

/** User#active_account_user: the most recently active membership. */
function activeMembership(memberships: Membership[]): Membership | undefined {
  return [...memberships].sort((a, b) => (b.active_at ?? -1) - (a.active_at ?? -1) || a.id - b.id)[0];
}

function baseUser(user: UserRow, token: string | null, active: Membership | undefined): Record<string, unknown> {
  const custom = parseJson<JsonObject>(user.custom_attributes, {});
  const out: Record<string, unknown> = {
    access_token: token,
    account_id: active?.account_id ?? null,
    available_name: availableName(user),
    avatar_url: user.avatar_url ?? '',
    confirmed: user.confirmed_at !== null,
    display_name: user.display_name,
    message_signature: user.message_signature,
    email: user.email,
    id: user.id,
  };
  return { out, custom };
}

/** api/v1/models/_user.json.jbuilder — the profile and the sign-in response. */
export async function presentProfile(db: Db, user: UserRow): Promise<Record<string, unknown>> {
  const [token, memberships] = await Promise.all([accessTokenOf(db, 'User', user.id), membershipsOf(db, user.id)]);
  const active = activeMembership(memberships);
  const { out, custom } = baseUser(user, token, active) as { out: Record<string, unknown>; custom: JsonObject };
  out.inviter_id = active?.inviter_id ?? null;
  out.name = user.name;
  out.provider = user.provider;
  out.pubsub_token = user.pubsub_token;
  if (Object.keys(custom).length > 0) out.custom_attributes = custom;
  out.role = active ? roleName(active.role) : null;
  out.ui_settings = parseJson<JsonObject>(user.ui_settings, {});
  out.uid = user.uid;
  out.type = user.type;
  out.accounts = memberships.map((m) => ({
    id: m.account_id,
    name: m.account_name,
    status: accountStatusName(m.account_status),
    active_at: isoTime(m.active_at),
    role: roleName(m.role),
    permissions: [roleName(m.role)],
    availability: availabilityName(m.availability),
    availability_status: availabilityStatus({ ...m, user_id: user.id }),
    auto_offline: m.auto_offline === 1,
  }));
  return out;
}

/** platform/api/v1/models/_user.json.jbuilder */
export async function presentPlatformUser(db: Db, user: UserRow): Promise<Record<string, unknown>> {
  const [token, memberships] = await Promise.all([accessTokenOf(db, 'User', user.id), membershipsOf(db, user.id)]);
  const active = activeMembership(memberships);
  const { out, custom } = baseUser(user, token, active) as { out: Record<string, unknown>; custom: JsonObject };
  out.name = user.name;
  out.provider = user.provider;
  out.pubsub_token = user.pubsub_token;
  if (Object.keys(custom).length > 0) out.custom_attributes = custom;
  out.role = active ? roleName(active.role) : null;
  out.ui_settings = parseJson<JsonObject>(user.ui_settings, {});
  out.uid = user.uid;
  out.accounts = memberships.map((m) => ({
    id: m.account_id,
    name: m.account_name,
    active_at: isoTime(m.active_at),
    role: roleName(m.role),
  }));
  return out;
}

/** api/v1/models/_agent.json.jbuilder — a user as seen inside one account. */
export function presentAgent(user: UserRow, membership: AccountUserRow): Record<string, unknown> {
  const custom = parseJson<JsonObject>(user.custom_attributes, {});
  const out: Record<string, unknown> = {
    id: user.id,
    account_id: membership.account_id,
    availability_status: availabilityStatus(membership),
    auto_offline: membership.auto_offline === 1,
    confirmed: user.confirmed_at !== null,
    email: user.email,
    provider: user.provider,
    available_name: availableName(user),
  };
  if (Object.keys(custom).length > 0) out.custom_attributes = custom;
  out.name = user.name;
  out.role = roleName(membership.role);
  out.thumbnail = user.avatar_url ?? '';
  return out;
}

/** User#push_event_data — how a user appears inside conversations and messages. */
export function userPushData(user: Pick<UserRow, 'id' | 'name' | 'display_name' | 'avatar_url'>, availability: string): Record<string, unknown> {
  return {
    id: user.id,
    name: user.name,
    available_name: availableName(user),
    avatar_url: user.avatar_url ?? '',
    type: 'user',
    availability_status: availability,
    thumbnail: user.avatar_url ?? '',
  };
}
