import type { Db } from '../../context.js';
import { parseJson, type JsonObject } from '../../db/json.js';
import { isoTime } from '../../db/time.js';
import { accessTokenOf } from '../../auth/tokens.js';
import { presenceValue, withPresence, type PresenceRule } from '../../realtime/presence.js';
import { accountStatusName } from '../accounts/service.js';
import type { Static } from '@sinclair/typebox';
import type { AgentSchema, ProfileSchema } from './schemas.js';
import { availabilityName, membershipsOf, roleName, type AccountUserRow, type UserRow } from './service.js';

export const availableName = (user: Pick<UserRow, 'display_name' | 'name'>): string =>
  user.display_name && user.display_name.trim() !== '' ? user.display_name : user.name;

type AvailabilityFields = Pick<AccountUserRow, 'account_id' | 'user_id' | 'availability' | 'auto_offline'>;

/** AvailabilityStatusable#user_availability_status: with auto_offline, absence means offline. */
export function availabilityRule(m: AvailabilityFields): PresenceRule {
  const configured = availabilityName(m.availability);
  return { accountId: m.account_id, type: 'User', id: m.user_id, present: configured, absent: m.auto_offline ? 'offline' : configured };
}

export const availabilityStatus = (m: AvailabilityFields): string => presenceValue(availabilityRule(m));

/** A user without a membership in the account renders as offline. */
const OFFLINE = 'offline';

export type Profile = Static<typeof ProfileSchema>;
export type Agent = Static<typeof AgentSchema>;

type Membership = Awaited<ReturnType<typeof membershipsOf>>[number];

/** User#active_account_user: the most recently active membership. */
function activeMembership(memberships: Membership[]): Membership | undefined {
  return [...memberships].sort((a, b) => (b.active_at ?? -1) - (a.active_at ?? -1) || a.id - b.id)[0];
}

/** What both user shapes (the profile and the Platform API's user) are built from. */
async function userParts(db: Db, user: UserRow, knownToken?: string, authEpoch?: number) {
  const [token, memberships] = await Promise.all([knownToken ?? accessTokenOf(db, 'User', user.id), membershipsOf(db, user.id, authEpoch)]);
  const custom = parseJson<JsonObject>(user.custom_attributes, {});
  // jbuilder leaves custom_attributes out when empty: undefined is what JSON.stringify leaves out,
  // and it keeps the key's place (the shapes below are plain literals, which V8 builds fastest).
  return { token, memberships, active: activeMembership(memberships), custom: Object.keys(custom).length > 0 ? custom : undefined };
}

type UserParts = Awaited<ReturnType<typeof userParts>>;

/**
 * Both user shapes in jbuilder order, as one plain literal (V8 builds those fastest). The
 * profile's inviter_id and type are undefined in the Platform API's shape, which JSON leaves out.
 */
function userShape<A>(user: UserRow, { token, active, custom }: UserParts, profile: boolean, accounts: A[]) {
  return {
    access_token: token,
    account_id: active?.account_id ?? null,
    available_name: availableName(user),
    avatar_url: user.avatar_url ?? '',
    confirmed: user.confirmed_at !== null,
    display_name: user.display_name,
    message_signature: user.message_signature,
    email: user.email,
    id: user.id,
    inviter_id: profile ? (active?.inviter_id ?? null) : undefined,
    name: user.name,
    provider: user.provider,
    pubsub_token: user.pubsub_token,
    custom_attributes: custom,
    role: active ? roleName(active.role) : null,
    ui_settings: parseJson<JsonObject>(user.ui_settings, {}),
    uid: user.uid,
    type: profile ? user.type : undefined,
    accounts,
  };
}

/** api/v1/models/_user.json.jbuilder — the profile and the sign-in response. */
export async function presentProfile(db: Db, user: UserRow, knownToken?: string, authEpoch?: number): Promise<Profile> {
  const parts = await userParts(db, user, knownToken, authEpoch);
  const accounts = parts.memberships.map((m) => ({
    id: m.account_id,
    name: m.account_name,
    status: accountStatusName(m.account_status),
    active_at: isoTime(m.active_at),
    role: roleName(m.role),
    permissions: [roleName(m.role)],
    availability: availabilityName(m.availability),
    availability_status: availabilityStatus({ account_id: m.account_id, user_id: user.id, availability: m.availability, auto_offline: m.auto_offline }),
    auto_offline: m.auto_offline === 1,
  }));
  return userShape(user, parts, true, accounts) as Profile;
}

/** platform/api/v1/models/_user.json.jbuilder */
export async function presentPlatformUser(db: Db, user: UserRow): Promise<Record<string, unknown>> {
  const parts = await userParts(db, user);
  const accounts = parts.memberships.map((m) => ({ id: m.account_id, name: m.account_name, active_at: isoTime(m.active_at), role: roleName(m.role) }));
  return userShape(user, parts, false, accounts);
}

/** api/v1/models/_agent.json.jbuilder — a user as seen inside one account. */
export function presentAgent(user: UserRow, membership: AccountUserRow): Agent {
  const custom = parseJson<JsonObject>(user.custom_attributes, {});
  const out = {
    id: user.id,
    account_id: membership.account_id,
    availability_status: availabilityStatus(membership),
    auto_offline: membership.auto_offline === 1,
    confirmed: user.confirmed_at !== null,
    email: user.email,
    provider: user.provider,
    available_name: availableName(user),
    ...(Object.keys(custom).length > 0 ? { custom_attributes: custom } : {}),
    name: user.name,
    role: roleName(membership.role),
    thumbnail: user.avatar_url ?? '',
  };
  return withPresence(out, availabilityRule(membership));
}

/** User#push_event_data — how a user appears inside conversations and messages. */
export function userPushData(user: Pick<UserRow, 'id' | 'name' | 'display_name' | 'avatar_url'>, membership: AvailabilityFields | null): Record<string, unknown> {
  const out = {
    id: user.id,
    name: user.name,
    available_name: availableName(user),
    avatar_url: user.avatar_url ?? '',
    type: 'user',
    availability_status: OFFLINE,
    thumbnail: user.avatar_url ?? '',
  };
  return membership ? withPresence(out, availabilityRule(membership)) : out;
}
