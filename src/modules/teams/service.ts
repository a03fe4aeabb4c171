import type { Db } from '../../context.js';
import type { Row } from '../../db/types.js';
import { now } from '../../db/time.js';
import { HttpError, RecordErrors, asTaken, notFound } from '../../lib/errors.js';
import { recordId } from '../../lib/params.js';

export type TeamRow = Row<'teams'>;
export type UserRow = Row<'users'>;
export type AccountUserRow = Row<'account_users'>;

export interface TeamInput {
  name?: string | null;
  description?: string | null;
  allow_auto_assign?: boolean | null;
}

export const TEAM_FIELDS = ['name', 'description', 'allow_auto_assign'] as const;

export function listTeams(db: Db, accountId: number): Promise<TeamRow[]> {
  return db.selectFrom('teams').selectAll().where('account_id', '=', accountId).orderBy('id').execute();
}

/** The account's team with this id; anything else (another account's, a non-number) is 404. */
export async function findTeam(db: Db, accountId: number, id: number | string): Promise<TeamRow> {
  const n = recordId(id);
  const row = await db.selectFrom('teams').selectAll().where('account_id', '=', accountId).where('id', '=', n).executeTakeFirst();
  if (!row) throw notFound();
  return row;
}

/** The ids of the team's members, in the order they joined. */
export async function teamMemberUserIds(db: Db, teamId: number): Promise<number[]> {
  const rows = await db.selectFrom('team_members').select('user_id').where('team_id', '=', teamId).orderBy('id').execute();
  return rows.map((r) => r.user_id);
}

/** The ids of the account's teams `userId` belongs to (for `is_member`). */
export async function teamIdsOfUser(db: Db, accountId: number, userId: number): Promise<Set<number>> {
  const rows = await db
    .selectFrom('team_members')
    .innerJoin('teams', 'teams.id', 'team_members.team_id')
    .select('teams.id')
    .where('teams.account_id', '=', accountId)
    .where('team_members.user_id', '=', userId)
    .execute();
  return new Set(rows.map((r) => r.id));
}

export async function isTeamMember(db: Db, teamId: number, userId: number): Promise<boolean> {
  const row = await db.selectFrom('team_members').select('id').where('team_id', '=', teamId).where('user_id', '=', userId).executeTakeFirst();
  return row !== undefined;
}

async function validate(db: Db, accountId: number, name: string | null, exceptId?: number): Promise<void> {
  const errors = new RecordErrors();
  if (name === null || name.trim() === '') {
    errors.add('name', 'must not be blank');
  } else {
    let q = db.selectFrom('teams').select('id').where('account_id', '=', accountId).where('name', '=', name);
    if (exceptId !== undefined) q = q.where('id', '!=', exceptId);
    if (await q.executeTakeFirst()) errors.add('name', 'has already been taken');
  }
  errors.throwIfAny();
}

/** Team names are stored lower-cased (Team's before_validation). */
const normalizeName = (name: string | null | undefined): string | null => (typeof name === 'string' ? name.toLowerCase() : null);

export async function createTeam(db: Db, accountId: number, input: TeamInput): Promise<TeamRow> {
  const name = normalizeName(input.name);
  await validate(db, accountId, name);
  const ts = now();
  try {
    return await db
      .insertInto('teams')
      .values({
        account_id: accountId,
        name: name!,
        description: input.description ?? null,
        allow_auto_assign: input.allow_auto_assign === false ? 0 : 1,
        created_at: ts,
        updated_at: ts,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  } catch (error) {
    throw asTaken(error, 'name');
  }
}

export async function updateTeam(db: Db, team: TeamRow, input: TeamInput): Promise<TeamRow> {
  const name = input.name !== undefined ? normalizeName(input.name) : team.name;
  await validate(db, team.account_id, name, team.id);
  const changes: Partial<TeamRow> = { name: name!, updated_at: now() };
  if (input.description !== undefined) changes.description = input.description;
  if (input.allow_auto_assign !== undefined) changes.allow_auto_assign = input.allow_auto_assign ? 1 : 0;
  try {
    return await db.updateTable('teams').set(changes).where('id', '=', team.id).returningAll().executeTakeFirstOrThrow();
  } catch (error) {
    throw asTaken(error, 'name');
  }
}

/** Members go with the team; its conversations stay, unassigned from it (the foreign key sets NULL). */
export async function deleteTeam(db: Db, team: TeamRow): Promise<void> {
  await db.deleteFrom('team_members').where('team_id', '=', team.id).execute();
  await db.deleteFrom('teams').where('id', '=', team.id).execute();
}

// ---- members ----

export interface TeamMemberUser {
  user: UserRow;
  membership: AccountUserRow;
}

/** TeamMembersController#validate_member_id_params: ids outside the account are a 401 "Invalid User IDs". */
export async function assertAccountUsers(db: Db, accountId: number, userIds: number[]): Promise<void> {
  if (userIds.length === 0) return;
  const rows = await db.selectFrom('account_users').select('user_id').where('account_id', '=', accountId).where('user_id', 'in', userIds).execute();
  const known = new Set(rows.map((r) => r.user_id));
  if (userIds.some((id) => !known.has(id))) throw new HttpError(401, { error: 'Invalid User IDs' });
}

/** The given users with their membership of the team's account, in the order of `userIds`. */
export async function usersWithMembership(db: Db, accountId: number, userIds: number[]): Promise<TeamMemberUser[]> {
  if (userIds.length === 0) return [];
  const users = await db.selectFrom('users').selectAll().where('id', 'in', userIds).execute();
  const memberships = await db.selectFrom('account_users').selectAll().where('account_id', '=', accountId).where('user_id', 'in', userIds).execute();
  const userById = new Map(users.map((u) => [u.id, u]));
  const membershipByUser = new Map(memberships.map((m) => [m.user_id, m]));
  const out: TeamMemberUser[] = [];
  for (const id of userIds) {
    const user = userById.get(id);
    const membership = membershipByUser.get(id);
    if (user && membership) out.push({ user, membership });
  }
  return out;
}

/** Adds the users not yet in the team; returns the ids actually added, in the order given. */
export async function addTeamMembers(db: Db, team: TeamRow, userIds: number[]): Promise<number[]> {
  const current = new Set(await teamMemberUserIds(db, team.id));
  const toAdd = [...new Set(userIds)].filter((id) => !current.has(id));
  const ts = now();
  for (const userId of toAdd) {
    await db.insertInto('team_members').values({ team_id: team.id, user_id: userId, created_at: ts, updated_at: ts }).execute();
  }
  return toAdd;
}

export async function removeTeamMembers(db: Db, team: TeamRow, userIds: number[]): Promise<void> {
  if (userIds.length === 0) return;
  await db.deleteFrom('team_members').where('team_id', '=', team.id).where('user_id', 'in', userIds).execute();
}

/** Makes the team's members exactly `userIds`; returns the member ids afterwards. */
export async function replaceTeamMembers(db: Db, team: TeamRow, userIds: number[]): Promise<number[]> {
  const wanted = new Set(userIds);
  const current = await teamMemberUserIds(db, team.id);
  await addTeamMembers(db, team, userIds);
  await removeTeamMembers(db, team, current.filter((id) => !wanted.has(id)));
  return teamMemberUserIds(db, team.id);
}
