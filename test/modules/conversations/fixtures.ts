import type { TestApp, TestUser } from '../../helpers.js';
import type { Row } from '../../../src/db/types.js';
import { now } from '../../../src/db/time.js';
import { issueAccessToken } from '../../../src/auth/tokens.js';
import { secureToken } from '../../../src/lib/random.js';

/** An API inbox of the account, with the given members; auto-assignment off unless asked. */
export async function makeInbox(
  t: TestApp,
  accountId: number,
  options: { name?: string; members?: number[]; autoAssign?: boolean; lockToSingle?: boolean } = {},
): Promise<Row<'inboxes'>> {
  const ts = now();
  const channel = await t.ctx.db
    .insertInto('channel_api')
    .values({ account_id: accountId, identifier: secureToken(16), hmac_token: secureToken(16), created_at: ts, updated_at: ts })
    .returning('id')
    .executeTakeFirstOrThrow();
  const inbox = await t.ctx.db
    .insertInto('inboxes')
    .values({
      account_id: accountId,
      channel_type: 'Channel::Api',
      channel_id: channel.id,
      name: options.name ?? 'API inbox',
      enable_auto_assignment: options.autoAssign ? 1 : 0,
      lock_to_single_conversation: options.lockToSingle ? 1 : 0,
      created_at: ts,
      updated_at: ts,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  for (const userId of options.members ?? []) {
    await t.ctx.db.insertInto('inbox_members').values({ inbox_id: inbox.id, user_id: userId, created_at: ts, updated_at: ts }).execute();
  }
  return inbox;
}

export async function makeContact(t: TestApp, accountId: number, fields: Partial<Row<'contacts'>> = {}): Promise<Row<'contacts'>> {
  const ts = now();
  return t.ctx.db
    .insertInto('contacts')
    .values({
      account_id: accountId,
      name: fields.name ?? 'Jane Doe',
      email: fields.email ?? null,
      phone_number: fields.phone_number ?? null,
      blocked: fields.blocked ?? 0,
      created_at: ts,
      updated_at: ts,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function makeTeam(t: TestApp, accountId: number, name: string, members: number[] = [], allowAutoAssign = true): Promise<Row<'teams'>> {
  const ts = now();
  const team = await t.ctx.db
    .insertInto('teams')
    .values({ account_id: accountId, name, allow_auto_assign: allowAutoAssign ? 1 : 0, created_at: ts, updated_at: ts })
    .returningAll()
    .executeTakeFirstOrThrow();
  for (const userId of members) {
    await t.ctx.db.insertInto('team_members').values({ team_id: team.id, user_id: userId, created_at: ts, updated_at: ts }).execute();
  }
  return team;
}

export async function makeBot(t: TestApp, accountId: number, name = 'Helper bot'): Promise<{ bot: Row<'agent_bots'>; token: string }> {
  const ts = now();
  const bot = await t.ctx.db
    .insertInto('agent_bots')
    .values({ name, account_id: accountId, outgoing_url: 'https://bot.example.com', created_at: ts, updated_at: ts })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { bot, token: await issueAccessToken(t.ctx.db, 'AgentBot', bot.id) };
}

/** POST /conversations as `user`, returning the parsed body (asserting 200). */
export async function createConversation(
  t: TestApp,
  accountId: number,
  user: TestUser | { token: string },
  payload: Record<string, unknown>,
): Promise<Record<string, any>> {
  const res = await t.request({ method: 'POST', url: `/api/v1/accounts/${accountId}/conversations`, token: user.token, payload });
  if (res.statusCode !== 200) throw new Error(`create conversation: ${res.statusCode} ${res.body}`);
  return res.json();
}

/** All messages of a conversation (by display id), oldest first. */
export async function messagesOf(t: TestApp, accountId: number, displayId: number): Promise<Row<'messages'>[]> {
  const conv = await t.ctx.db
    .selectFrom('conversations')
    .select('id')
    .where('account_id', '=', accountId)
    .where('display_id', '=', displayId)
    .executeTakeFirstOrThrow();
  return t.ctx.db.selectFrom('messages').selectAll().where('conversation_id', '=', conv.id).orderBy('id').execute();
}

export async function activityContents(t: TestApp, accountId: number, displayId: number): Promise<string[]> {
  return (await messagesOf(t, accountId, displayId)).filter((m) => m.message_type === 2).map((m) => m.content ?? '');
}
