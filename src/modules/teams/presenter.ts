import { bool } from '../../db/time.js';
import { presentAgent } from '../users/presenter.js';
import type { TeamMemberUser, TeamRow } from './service.js';

/** api/v1/models/_team.json.jbuilder; `isMember` is whether the current user belongs to the team. */
export function presentTeam(team: TeamRow, isMember: boolean): Record<string, unknown> {
  return {
    id: team.id,
    name: team.name,
    description: team.description,
    allow_auto_assign: bool(team.allow_auto_assign),
    account_id: team.account_id,
    is_member: isMember,
  };
}

/** team_members/index and create: each member as api/v1/models/_agent.json.jbuilder. */
export function presentTeamMembers(members: TeamMemberUser[]): Record<string, unknown>[] {
  return members.map((m) => presentAgent(m.user, m.membership));
}
