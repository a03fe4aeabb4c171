import type { Db } from '../../context.js';
import { parseJson, type JsonObject } from '../../db/json.js';
import { accessTokenOf } from '../../auth/tokens.js';
import type { AgentBotRow } from './service.js';

const BOT_TYPES = ['webhook'];

/**
 * api/v1/models/_agent_bot.json.jbuilder. System bots (no account) hide their URL; the access
 * token is shown only to the bot's own account (Chatwoot shows it when present on the record).
 */
export async function presentAgentBot(db: Db, bot: AgentBotRow, options: { withToken: boolean }): Promise<Record<string, unknown>> {
  const systemBot = bot.account_id === null;
  const out: Record<string, unknown> = {
    id: bot.id,
    name: bot.name,
    description: bot.description,
    thumbnail: bot.avatar_url ?? '',
  };
  if (!systemBot) out.outgoing_url = bot.outgoing_url;
  out.bot_type = BOT_TYPES[bot.bot_type] ?? 'webhook';
  out.bot_config = parseJson<JsonObject>(bot.bot_config, {});
  out.account_id = bot.account_id;
  if (options.withToken && !systemBot) {
    const token = await accessTokenOf(db, 'AgentBot', bot.id);
    if (token) out.access_token = token;
  }
  out.system_bot = systemBot;
  return out;
}

/** platform/api/v1/models/_agent_bot.json.jbuilder (Chatwoot renders outgoing_url from the bot's URL field). */
export async function presentPlatformAgentBot(db: Db, bot: AgentBotRow): Promise<Record<string, unknown>> {
  return {
    id: bot.id,
    name: bot.name,
    description: bot.description,
    outgoing_url: bot.outgoing_url,
    account_id: bot.account_id,
    access_token: await accessTokenOf(db, 'AgentBot', bot.id),
  };
}
