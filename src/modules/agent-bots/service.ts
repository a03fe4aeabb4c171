import type { Db } from '../../context.js';
import { isPlainObject, toJson, type JsonObject } from '../../db/json.js';
import type { Row } from '../../db/types.js';
import { now } from '../../db/time.js';
import { deleteAccessTokens, issueAccessToken } from '../../auth/tokens.js';
import { notFound, RecordErrors } from '../../lib/errors.js';
import { isRecordId } from '../../lib/params.js';

export type AgentBotRow = Row<'agent_bots'>;

export interface AgentBotInput {
  name?: string;
  description?: string | null;
  outgoing_url?: string | null;
  account_id?: number | null;
  bot_type?: string;
  bot_config?: JsonObject;
  avatar_url?: string | null;
}

function validate(input: AgentBotInput, creating: boolean): void {
  const errors = new RecordErrors();
  if (creating || input.name !== undefined) {
    if (typeof input.name !== 'string' || input.name.trim() === '') errors.add('name', "can't be blank");
  }
  if (input.outgoing_url) {
    try {
      const u = new URL(input.outgoing_url);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') errors.add('outgoing_url', 'is invalid');
    } catch {
      errors.add('outgoing_url', 'is invalid');
    }
  }
  // Rails enum `bot_type: { webhook: 0 }` accepts the name or its integer (JSON 0 arrives here as "0").
  if (input.bot_type !== undefined && input.bot_type !== 'webhook' && input.bot_type !== '0') errors.add('bot_type', 'is not included in the list');
  if (input.bot_config !== undefined && !isPlainObject(input.bot_config)) errors.add('bot_config', 'must be an object');
  errors.throwIfAny();
}

/** Creates the bot and its access token in one transaction. */
export async function createAgentBot(db: Db, input: AgentBotInput): Promise<AgentBotRow> {
  validate(input, true);
  return db.transaction().execute(async (trx) => {
    const t = now();
    const bot = await trx
      .insertInto('agent_bots')
      .values({
        name: input.name!.trim(),
        description: input.description ?? null,
        outgoing_url: input.outgoing_url ?? null,
        account_id: input.account_id ?? null,
        bot_config: toJson(input.bot_config ?? {}),
        avatar_url: input.avatar_url ?? null,
        created_at: t,
        updated_at: t,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await issueAccessToken(trx, 'AgentBot', bot.id);
    return bot;
  });
}

export async function updateAgentBot(db: Db, bot: AgentBotRow, input: AgentBotInput): Promise<AgentBotRow> {
  validate(input, false);
  return db
    .updateTable('agent_bots')
    .set({
      ...(input.name !== undefined ? { name: input.name.trim() } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.outgoing_url !== undefined ? { outgoing_url: input.outgoing_url } : {}),
      ...(input.account_id !== undefined ? { account_id: input.account_id } : {}),
      ...(input.bot_config !== undefined ? { bot_config: toJson(input.bot_config) } : {}),
      ...(input.avatar_url !== undefined ? { avatar_url: input.avatar_url } : {}),
      updated_at: now(),
    })
    .where('id', '=', bot.id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function deleteAgentBot(db: Db, bot: AgentBotRow): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await deleteAccessTokens(trx, 'AgentBot', bot.id);
    await trx.deleteFrom('platform_app_permissibles').where('permissible_type', '=', 'AgentBot').where('permissible_id', '=', bot.id).execute();
    await trx.updateTable('conversations').set({ assignee_agent_bot_id: null }).where('assignee_agent_bot_id', '=', bot.id).execute();
    await trx.deleteFrom('agent_bots').where('id', '=', bot.id).execute();
  });
}

export async function findAgentBot(db: Db, id: number): Promise<AgentBotRow> {
  if (!isRecordId(id)) throw notFound();
  const bot = await db.selectFrom('agent_bots').selectAll().where('id', '=', id).executeTakeFirst();
  if (!bot) throw notFound();
  return bot;
}

/** Bots an account can see: its own and the global (system) ones, as Chatwoot's index lists. */
export function accountAgentBots(db: Db, accountId: number): Promise<AgentBotRow[]> {
  return db
    .selectFrom('agent_bots')
    .selectAll()
    .where((eb) => eb.or([eb('account_id', '=', accountId), eb('account_id', 'is', null)]))
    .orderBy('id')
    .execute();
}
