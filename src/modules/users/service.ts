import type { Db } from '../../context.js';
import { isPlainObject, parseJson, toJson, type JsonObject } from '../../db/json.js';
import type { Row } from '../../db/types.js';
import { now } from '../../db/time.js';
import { hashPassword, passwordProblems, verifyPassword } from '../../auth/passwords.js';
import { deleteAccessTokens, issueAccessToken } from '../../auth/tokens.js';
import { notFound, RecordErrors } from '../../lib/errors.js';
import { isRecordId } from '../../lib/params.js';
import { precompiled } from '../../db/precompiled.js';
import { EpochCache } from '../../db/epochs.js';
import { secureToken } from '../../lib/random.js';

export type UserRow = Row<'users'>;
export type AccountUserRow = Row<'account_users'>;

export const AVAILABILITY = ['online', 'offline', 'busy'] as const;
export type Availability = (typeof AVAILABILITY)[number];
export const availabilityName = (n: number): Availability => AVAILABILITY[n] ?? 'online';
export const ROLES = ['agent', 'administrator'] as const;
export type Role = (typeof ROLES)[number];
export const roleName = (n: number): Role => ROLES[n] ?? 'agent';

/** Devise's email format (config.email_regexp). */
export const EMAIL_FORMAT = /^[^@\s]+@[^@\s]+$/;

export interface UserInput {
  name?: string;
  display_name?: string | null;
  email?: string;
  password?: string;
  password_confirmation?: string;
  message_signature?: string | null;
  custom_attributes?: JsonObject;
  ui_settings?: JsonObject;
  avatar_url?: string | null;
  confirmed?: boolean;
  type?: string | null;
}

async function validate(db: Db, input: UserInput, existing?: UserRow): Promise<void> {
  const errors = new RecordErrors();
  if (!existing || input.name !== undefined) {
    if (typeof input.name !== 'string' || input.name.trim() === '') errors.add('name', "can't be blank");
    else if (input.name.length > 255) errors.add('name', 'is too long (maximum is 255 characters)');
  }
  if (!existing || input.email !== undefined) {
    const email = input.email?.trim().toLowerCase();
    if (!email) errors.add('email', "can't be blank");
    else if (!EMAIL_FORMAT.test(email) || email.length > 255) errors.add('email', 'is invalid');
    else {
      let q = db.selectFrom('users').select('id').where('email', '=', email);
      if (existing) q = q.where('id', '!=', existing.id);
      if (await q.executeTakeFirst()) errors.add('email', 'has already been taken');
    }
  }
  if (input.password !== undefined) {
    for (const problem of passwordProblems(input.password)) errors.add('password', problem);
    if (input.password_confirmation !== undefined && input.password_confirmation !== input.password) {
      errors.add('password_confirmation', "doesn't match Password");
    }
  }
  for (const key of ['custom_attributes', 'ui_settings'] as const) {
    if (input[key] !== undefined && !isPlainObject(input[key])) errors.add(key, 'must be an object');
  }
  errors.throwIfAny();
}

/**
 * The stored hash of a new user's password (of a generated one when none is given). Hashing takes
 * ~50 ms: a caller inside a transaction computes it before opening it and passes it to createUser,
 * since on SQLite the open transaction holds the one connection for every other request.
 */
export function userPasswordHash(input: Pick<UserInput, 'password'>): Promise<string> {
  return hashPassword(input.password ?? `${secureToken(20)}aA1!`);
}

/**
 * For a caller about to find-or-create a user by email in a transaction: the password hash its
 * createUser will need, made now, outside the transaction; undefined when the user exists already
 * (if that changes in between, createUser hashes inside as before).
 */
export async function passwordHashForNewUser(db: Db, email: string | undefined, password: string | undefined): Promise<string | undefined> {
  if (email && (await findUserByEmail(db, email))) return undefined;
  return userPasswordHash({ password });
}

/**
 * Creates a user with its access token and pubsub token. Without a password one is generated
 * (Chatwoot's invited agents set theirs later).
 */
export async function createUser(db: Db, input: UserInput, encryptedPassword?: string): Promise<UserRow> {
  await validate(db, input);
  const email = input.email!.trim().toLowerCase();
  const encrypted = encryptedPassword ?? (await userPasswordHash(input));
  const t = now();
  const user = await db
    .insertInto('users')
    .values({
      uid: email,
      email,
      encrypted_password: encrypted,
      name: input.name!.trim(),
      display_name: input.display_name ?? null,
      pubsub_token: secureToken(24),
      ui_settings: toJson(input.ui_settings ?? {}),
      custom_attributes: toJson(input.custom_attributes ?? {}),
      message_signature: input.message_signature ?? null,
      avatar_url: input.avatar_url ?? null,
      type: input.type ?? null,
      confirmed_at: input.confirmed === false ? null : t,
      created_at: t,
      updated_at: t,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  await issueAccessToken(db, 'User', user.id);
  return user;
}

export async function findUser(db: Db, id: number): Promise<UserRow> {
  if (!isRecordId(id)) throw notFound();
  const row = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound();
  return row;
}

export function findUserByEmail(db: Db, email: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('email', '=', email.trim().toLowerCase()).executeTakeFirst();
}

export async function updateUser(db: Db, user: UserRow, input: UserInput): Promise<UserRow> {
  await validate(db, input, user);
  const email = input.email?.trim().toLowerCase();
  return db
    .updateTable('users')
    .set({
      ...(input.name !== undefined ? { name: input.name.trim() } : {}),
      ...(input.display_name !== undefined ? { display_name: input.display_name } : {}),
      ...(email !== undefined ? { email, uid: email } : {}),
      ...(input.password !== undefined ? { encrypted_password: await hashPassword(input.password) } : {}),
      ...(input.message_signature !== undefined ? { message_signature: input.message_signature } : {}),
      ...(input.custom_attributes !== undefined ? { custom_attributes: toJson(input.custom_attributes) } : {}),
      ...(input.ui_settings !== undefined ? { ui_settings: toJson(input.ui_settings) } : {}),
      ...(input.avatar_url !== undefined ? { avatar_url: input.avatar_url } : {}),
      updated_at: now(),
    })
    .where('id', '=', user.id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function setUserPassword(db: Db, user: UserRow, password: string): Promise<void> {
  await validate(db, { password }, user);
  await db.updateTable('users').set({ encrypted_password: await hashPassword(password), updated_at: now() }).where('id', '=', user.id).execute();
}

export function checkPassword(user: UserRow, password: string): Promise<boolean> {
  return verifyPassword(password, user.encrypted_password);
}

/** Deletes the user and everything that hangs off them (memberships, sessions, tokens). */
export async function deleteUser(db: Db, user: UserRow): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await deleteAccessTokens(trx, 'User', user.id);
    await trx.deleteFrom('platform_app_permissibles').where('permissible_type', '=', 'User').where('permissible_id', '=', user.id).execute();
    await trx.deleteFrom('users').where('id', '=', user.id).execute();
  });
}

export interface MembershipInput {
  role?: Role;
  availability?: Availability;
  auto_offline?: boolean;
  inviter_id?: number | null;
}

export function validateMembership(input: MembershipInput): void {
  const errors = new RecordErrors();
  if (input.role !== undefined && !ROLES.includes(input.role)) errors.add('role', 'is not included in the list');
  if (input.availability !== undefined && !AVAILABILITY.includes(input.availability)) errors.add('availability', 'is not included in the list');
  errors.throwIfAny();
}

/** Adds the user to the account, or updates the existing membership (find_or_initialize_by + update!). */
export async function upsertMembership(db: Db, accountId: number, userId: number, input: MembershipInput): Promise<AccountUserRow> {
  validateMembership(input);
  const t = now();
  const existing = await db
    .selectFrom('account_users')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  const values = {
    ...(input.role !== undefined ? { role: ROLES.indexOf(input.role) } : {}),
    ...(input.availability !== undefined ? { availability: AVAILABILITY.indexOf(input.availability) } : {}),
    ...(input.auto_offline !== undefined ? { auto_offline: input.auto_offline ? 1 : 0 } : {}),
  };
  if (existing) {
    return db.updateTable('account_users').set({ ...values, updated_at: t }).where('id', '=', existing.id).returningAll().executeTakeFirstOrThrow();
  }
  return db
    .insertInto('account_users')
    .values({ account_id: accountId, user_id: userId, inviter_id: input.inviter_id ?? null, ...values, created_at: t, updated_at: t })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function removeMembership(db: Db, accountId: number, userId: number): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('account_users').where('account_id', '=', accountId).where('user_id', '=', userId).execute();
    // Membership ends inbox and team membership in that account too (Chatwoot's AccountUser callbacks).
    await trx
      .deleteFrom('inbox_members')
      .where('user_id', '=', userId)
      .where('inbox_id', 'in', trx.selectFrom('inboxes').select('id').where('account_id', '=', accountId))
      .execute();
    await trx
      .deleteFrom('team_members')
      .where('user_id', '=', userId)
      .where('team_id', 'in', trx.selectFrom('teams').select('id').where('account_id', '=', accountId))
      .execute();
    await trx
      .updateTable('conversations')
      .set({ assignee_id: null })
      .where('account_id', '=', accountId)
      .where('assignee_id', '=', userId)
      .execute();
  });
}

const membershipsQuery = precompiled((db, userId: number) =>
  db
    .selectFrom('account_users')
    .innerJoin('accounts', 'accounts.id', 'account_users.account_id')
    .select([
      'account_users.id',
      'account_users.account_id',
      'account_users.role',
      'account_users.availability',
      'account_users.auto_offline',
      'account_users.active_at',
      'account_users.inviter_id',
      'accounts.name as account_name',
      'accounts.status as account_status',
    ])
    .where('account_users.user_id', '=', userId)
    .orderBy('account_users.id'),
);

/** The user's accounts with their membership in each (profile, sign-in). */
export function membershipsOf(db: Db, userId: number, authEpoch?: number) {
  return membershipCache.get(db, authEpoch, String(userId), () => membershipsQuery(db, userId));
}
/** Cached only for a caller that read the auth epoch (request.authEpoch). */
const membershipCache = new EpochCache<Awaited<ReturnType<typeof membershipsQuery>>>();

export const userCustomAttributes = (user: UserRow): JsonObject => parseJson<JsonObject>(user.custom_attributes, {});
