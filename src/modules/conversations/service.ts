import type { FastifyRequest } from 'fastify';
import type { AppContext, Db } from '../../context.js';
import type { Row } from '../../db/types.js';
import { currentAccount, isAdministrator } from '../../auth/guard.js';
import { notFound, unauthorized } from '../../lib/errors.js';

export type ConversationRow = Row<'conversations'>;

/** Current.account.conversations.find_by!(display_id:) — another account's conversation is a 404. */
export async function findConversation(db: Db, accountId: number, displayId: number): Promise<ConversationRow> {
  if (!Number.isSafeInteger(displayId)) throw notFound();
  const row = await db
    .selectFrom('conversations')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('display_id', '=', displayId)
    .executeTakeFirst();
  if (!row) throw notFound();
  return row;
}

/**
 * ConversationPolicy#show?: administrators and agent bots see everything in the account;
 * agents see conversations of inboxes they belong to, or of teams they belong to.
 */
export async function canViewConversation(
  ctx: AppContext,
  request: FastifyRequest,
  conversation: Pick<ConversationRow, 'inbox_id' | 'team_id' | 'account_id'>,
): Promise<boolean> {
  const principal = request.principal;
  if (!principal) return false;
  if (principal.kind === 'bot') return true;
  if (isAdministrator(request)) return true;
  const userId = principal.user.id;
  const inbox = await ctx.db
    .selectFrom('inbox_members')
    .innerJoin('inboxes', 'inboxes.id', 'inbox_members.inbox_id')
    .select('inbox_members.id')
    .where('inbox_members.user_id', '=', userId)
    .where('inbox_members.inbox_id', '=', conversation.inbox_id)
    .where('inboxes.account_id', '=', conversation.account_id)
    .executeTakeFirst();
  if (inbox) return true;
  if (conversation.team_id === null) return false;
  const team = await ctx.db
    .selectFrom('team_members')
    .innerJoin('teams', 'teams.id', 'team_members.team_id')
    .select('team_members.id')
    .where('team_members.user_id', '=', userId)
    .where('team_members.team_id', '=', conversation.team_id)
    .where('teams.account_id', '=', conversation.account_id)
    .executeTakeFirst();
  return team !== undefined;
}

/** Finds the conversation in the URL's account and authorizes it like Chatwoot's `authorize @conversation, :show?`. */
export async function loadConversationForRequest(ctx: AppContext, request: FastifyRequest, displayId: number): Promise<ConversationRow> {
  const account = currentAccount(request);
  const conversation = await findConversation(ctx.db, account.id, displayId);
  if (!(await canViewConversation(ctx, request, conversation))) throw unauthorized();
  return conversation;
}
