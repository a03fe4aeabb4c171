import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { currentAccount, currentUser, requireAdministrator } from '../../auth/guard.js';
import { unprocessable } from '../../lib/errors.js';
import { unwrap } from '../../lib/params.js';
import { presentTeam, presentTeamMembers } from './presenter.js';
import { ListQuery, MemberBody, MemberQuery, TeamBody, TeamMembersParams, TeamParams, type TeamFieldsT } from './schemas.js';
import {
  TEAM_FIELDS,
  addTeamMembers,
  assertAccountUsers,
  createTeam,
  deleteTeam,
  findTeam,
  isTeamMember,
  listTeams,
  removeTeamMembers,
  replaceTeamMembers,
  teamIdsOfUser,
  teamMemberUserIds,
  updateTeam,
  usersWithMembership,
  type TeamInput,
} from './service.js';

/** params.require(:team).permit(…): nothing permitted present is ParameterMissing (422). */
function permitted(body: unknown): TeamInput {
  const fields = unwrap<TeamFieldsT>(body, 'team');
  const out: Record<string, unknown> = {};
  for (const key of TEAM_FIELDS) if (fields[key] !== undefined) out[key] = fields[key];
  if (Object.keys(out).length === 0) throw unprocessable('param is missing or the value is empty: team');
  return out as TeamInput;
}

function memberIds(request: FastifyRequest<{ Body: { user_ids?: number[] } | undefined; Querystring: { user_ids?: number[] } }>): number[] {
  const ids = request.body?.user_ids ?? request.query.user_ids;
  if (ids === undefined) throw unprocessable('param is missing or the value is empty: user_ids');
  return [...new Set(ids)];
}

/**
 * TeamPolicy / TeamMemberPolicy: every member lists and shows teams and lists a team's members;
 * administrators create, update and delete teams and manage their members.
 */
export const teamsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const db = () => app.ctx.db;

  app.get('/teams', { schema: { querystring: ListQuery } }, async (request) => {
    const account = currentAccount(request);
    const user = currentUser(request);
    const [teams, mine] = await Promise.all([listTeams(db(), account.id), teamIdsOfUser(db(), account.id, user.id)]);
    return teams.map((t) => presentTeam(t, mine.has(t.id)));
  });

  app.get('/teams/:id', { schema: { params: TeamParams } }, async (request) => {
    const team = await findTeam(db(), currentAccount(request).id, request.params.id);
    return presentTeam(team, await isTeamMember(db(), team.id, currentUser(request).id));
  });

  app.post('/teams', { schema: { body: TeamBody } }, async (request) => {
    const account = currentAccount(request);
    requireAdministrator(request);
    const input = permitted(request.body);
    const team = await db().transaction().execute((trx) => createTeam(trx, account.id, input));
    return presentTeam(team, false);
  });

  // Chatwoot's order: find the team (404), then authorize (401), then read the params (422).
  const update = async (request: FastifyRequest<{ Params: { id: string }; Body: unknown }>) => {
    const account = currentAccount(request);
    await findTeam(db(), account.id, request.params.id);
    requireAdministrator(request);
    const input = permitted(request.body);
    const team = await db().transaction().execute(async (trx) => updateTeam(trx, await findTeam(trx, account.id, request.params.id), input));
    return presentTeam(team, await isTeamMember(db(), team.id, currentUser(request).id));
  };
  app.patch('/teams/:id', { schema: { params: TeamParams, body: TeamBody } }, update);
  app.put('/teams/:id', { schema: { params: TeamParams, body: TeamBody } }, update);

  app.delete('/teams/:id', { schema: { params: TeamParams } }, async (request, reply) => {
    const team = await findTeam(db(), currentAccount(request).id, request.params.id);
    requireAdministrator(request);
    await db().transaction().execute((trx) => deleteTeam(trx, team));
    return reply.status(200).send();
  });

  // ---- members ----
  const membersPath = '/teams/:team_id/team_members';

  app.get(membersPath, { schema: { params: TeamMembersParams } }, async (request) => {
    const account = currentAccount(request);
    const team = await findTeam(db(), account.id, request.params.team_id);
    return presentTeamMembers(await usersWithMembership(db(), account.id, await teamMemberUserIds(db(), team.id)));
  });

  /** Adds users; answers with the users newly added (those already members are left out). */
  app.post(membersPath, { schema: { params: TeamMembersParams, body: MemberBody, querystring: MemberQuery } }, async (request) => {
    const account = currentAccount(request);
    const team = await findTeam(db(), account.id, request.params.team_id);
    requireAdministrator(request);
    const ids = memberIds(request);
    await assertAccountUsers(db(), account.id, ids);
    const added = await db().transaction().execute((trx) => addTeamMembers(trx, team, ids));
    return presentTeamMembers(await usersWithMembership(db(), account.id, added));
  });

  /** Makes the member set exactly user_ids; answers with every member afterwards. */
  app.patch(membersPath, { schema: { params: TeamMembersParams, body: MemberBody, querystring: MemberQuery } }, async (request) => {
    const account = currentAccount(request);
    const team = await findTeam(db(), account.id, request.params.team_id);
    requireAdministrator(request);
    const ids = memberIds(request);
    await assertAccountUsers(db(), account.id, ids);
    const members = await db().transaction().execute((trx) => replaceTeamMembers(trx, team, ids));
    return presentTeamMembers(await usersWithMembership(db(), account.id, members));
  });

  app.delete(membersPath, { schema: { params: TeamMembersParams, body: MemberBody, querystring: MemberQuery } }, async (request, reply) => {
    const account = currentAccount(request);
    const team = await findTeam(db(), account.id, request.params.team_id);
    requireAdministrator(request);
    const ids = memberIds(request);
    await assertAccountUsers(db(), account.id, ids);
    await db().transaction().execute((trx) => removeTeamMembers(trx, team, ids));
    return reply.status(200).send();
  });
};
