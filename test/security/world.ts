import type { TestApp, TestUser } from '../helpers.js';
import { createAgentBot } from '../../src/modules/agent-bots/service.js';
import { accessTokenOf } from '../../src/auth/tokens.js';

/**
 * Two accounts populated through the public API, with a marker string in every record of
 * account A, so a test can tell whether a response leaked anything of A.
 */
export interface World {
  marker: string;
  a: { accountId: number; admin: TestUser; agent: TestUser; botToken: string; ids: Record<string, number> };
  b: { accountId: number; admin: TestUser; agent: TestUser };
  platformToken: string;
}

/** Which id a path parameter stands for, by the collection segment before it. */
export const SEGMENT_RESOURCE: Record<string, string> = {
  inboxes: 'inbox',
  inbox_members: 'inbox',
  contacts: 'contact',
  conversations: 'conversation',
  messages: 'message',
  labels: 'label',
  teams: 'team',
  canned_responses: 'canned_response',
  custom_attribute_definitions: 'custom_attribute_definition',
  custom_filters: 'custom_filter',
  agent_bots: 'agent_bot',
  agents: 'agent',
  notes: 'note',
  contact_inboxes: 'contact_inbox',
  accounts: 'account',
  participants: 'agent',
};

export async function buildWorld(t: TestApp): Promise<World> {
  const marker = `zq${Date.now().toString(36)}marker`;
  const a = await t.seedAccount();
  const b = await t.seedAccount();
  const ids: Record<string, number> = { account: a.account.id, agent: a.agent.user.id };
  const base = `/api/v1/accounts/${a.account.id}`;
  const post = async (url: string, payload: unknown) => {
    const res = await t.request({ method: 'POST', url: base + url, token: a.admin.token, payload: payload as object });
    return res.statusCode < 300 ? res.json() : null;
  };
  const inbox = await post('/inboxes', { name: `Inbox ${marker}`, channel: { type: 'api', webhook_url: '' } });
  if (inbox?.id) ids.inbox = inbox.id;
  const contact = await post('/contacts', { name: `Contact ${marker}`, email: `${marker}@example.com`, inbox_id: ids.inbox });
  const contactRow = contact?.payload?.contact ?? contact?.payload ?? contact;
  if (contactRow?.id) ids.contact = contactRow.id;
  if (ids.inbox && ids.contact) {
    const conv = await post('/conversations', { inbox_id: ids.inbox, contact_id: ids.contact, message: { content: `Hello ${marker}` } });
    if (conv?.id) ids.conversation = conv.id;
    if (ids.conversation) {
      const msg = await post(`/conversations/${ids.conversation}/messages`, { content: `Reply ${marker}`, message_type: 'outgoing' });
      if (msg?.id) ids.message = msg.id;
    }
    const note = await post(`/contacts/${ids.contact}/notes`, { content: `Note ${marker}` });
    if (note?.id) ids.note = note.id;
  }
  const label = await post('/labels', { title: `label${marker}`, description: marker });
  if (label?.id) ids.label = label.id;
  const team = await post('/teams', { name: `team ${marker}`, description: marker });
  if (team?.id) ids.team = team.id;
  const canned = await post('/canned_responses', { short_code: `sc${marker}`, content: marker });
  if (canned?.id) ids.canned_response = canned.id;
  const cad = await post('/custom_attribute_definitions', {
    attribute_display_name: `Attr ${marker}`,
    attribute_key: `k${marker}`,
    attribute_display_type: 0,
    attribute_model: 1,
    attribute_description: marker,
  });
  if (cad?.id) ids.custom_attribute_definition = cad.id;
  const filter = await post('/custom_filters', { name: `Filter ${marker}`, type: 'conversation', query: { payload: [] } });
  if (filter?.id) ids.custom_filter = filter.id;
  const bot = await createAgentBot(t.ctx.db, { name: `Bot ${marker}`, account_id: a.account.id });
  ids.agent_bot = bot.id;
  const botToken = (await accessTokenOf(t.ctx.db, 'AgentBot', bot.id))!;
  const platform = await t.createPlatformApp();
  return {
    marker,
    a: { accountId: a.account.id, admin: a.admin, agent: a.agent, botToken, ids },
    b: { accountId: b.account.id, admin: b.admin, agent: b.agent },
    platformToken: platform.token,
  };
}

/** Fills a route pattern's parameters with account A's ids (or 1 when A has no such record). */
export function fillPath(url: string, accountId: number, ids: Record<string, number>): string {
  const parts = url.split('/');
  return parts
    .map((part, i) => {
      if (!part.startsWith(':')) return part;
      if (part === ':account_id') return String(accountId);
      const named = part.slice(1).replace(/_id$/, '');
      const bySegment = SEGMENT_RESOURCE[parts[i - 1]] ?? SEGMENT_RESOURCE[`${named}s`] ?? named;
      return String(ids[bySegment] ?? ids[named] ?? 1);
    })
    .join('/');
}

/** A harmless body for routes that need one, so the request reaches the authorization and lookup code. */
export function probeBody(method: string): Record<string, unknown> | undefined {
  if (method === 'GET' || method === 'DELETE') return undefined;
  return { name: 'probe', content: 'probe', status: 'open', user_ids: [], labels: [] };
}

/** Account A's tables that carry `account_id` and an `id`, as snapshotA reads them. */
const ACCOUNT_TABLES = [
  'inboxes',
  'contacts',
  'conversations',
  'messages',
  'labels',
  'teams',
  'canned_responses',
  'custom_attribute_definitions',
  'custom_filters',
  'notes',
  'agent_bots',
  'account_users',
] as const;

/** Everything of account A a leak or a stray write could touch, as row data. */
export async function snapshotA(t: TestApp, w: World): Promise<string> {
  const db = t.ctx.db;
  const id = w.a.accountId;
  const parts = await Promise.all([
    ...ACCOUNT_TABLES.map((table) => db.selectFrom(table).selectAll().where('account_id', '=', id).orderBy('id').execute()),
    db.selectFrom('inbox_members').selectAll().orderBy('id').execute(),
    db.selectFrom('taggings').selectAll().where('account_id', '=', id).orderBy('taggable_id').orderBy('name').execute(),
  ]);
  return JSON.stringify(parts);
}
