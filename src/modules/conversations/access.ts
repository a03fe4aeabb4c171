import type { Db } from '../../context.js';
import type { Row } from '../../db/types.js';

/**
 * Who may see a conversation (ConversationPolicy#show?), as data: every conversation of every
 * account (`inboxIds` null: an agent bot, an administrator), or in `accountId` those of
 * `inboxIds` and of the teams `userId` is a member of. canViewConversation and the transactions
 * that authorize a ConversationRef decide with `conversationAllows`; PostgreSQL's reply statement
 * decides the same in SQL (messages/reply-statement.ts): change both together.
 */
export interface ConversationAccess {
  accountId: number;
  inboxIds: number[] | null;
  userId: number | null;
}

export async function conversationAllows(
  db: Db,
  access: ConversationAccess,
  conversation: Pick<Row<'conversations'>, 'inbox_id' | 'team_id' | 'account_id'>,
): Promise<boolean> {
  if (access.inboxIds === null) return true;
  if (conversation.account_id !== access.accountId) return false;
  if (access.inboxIds.includes(conversation.inbox_id)) return true;
  if (conversation.team_id === null || access.userId === null) return false;
  const team = await db
    .selectFrom('team_members')
    .innerJoin('teams', 'teams.id', 'team_members.team_id')
    .select('team_members.id')
    .where('team_members.user_id', '=', access.userId)
    .where('team_members.team_id', '=', conversation.team_id)
    .where('teams.account_id', '=', conversation.account_id)
    .executeTakeFirst();
  return team !== undefined;
}
