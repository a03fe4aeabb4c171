import type { AppContext, Db } from '../../context.js';
import type { Row } from '../../db/types.js';
import { unixSeconds } from '../../db/time.js';
import { ilike } from './finder.js';

type ConversationRow = Row<'conversations'>;
type MessageRow = Row<'messages'>;

/**
 * The messages ConversationFinder#filter_by_query preloads: incoming and outgoing messages of
 * each conversation whose content contains `q`, oldest first.
 */
export async function searchConversationMessages(ctx: AppContext, rows: ConversationRow[], q: string): Promise<Map<number, MessageRow[]>> {
  const out = new Map<number, MessageRow[]>();
  if (rows.length === 0) return out;
  const messages = await ctx.db
    .selectFrom('messages')
    .selectAll()
    .where('conversation_id', 'in', rows.map((r) => r.id))
    .where('message_type', 'in', [0, 1])
    .where(ilike(ctx, 'messages.content', q))
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  for (const m of messages) {
    const list = out.get(m.conversation_id) ?? [];
    list.push(m);
    out.set(m.conversation_id, list);
  }
  return out;
}

/** The names of many message senders (users, contacts, agent bots), keyed "Type:id". */
export async function senderNames(db: Db, messages: Pick<MessageRow, 'sender_type' | 'sender_id'>[]): Promise<Map<string, string>> {
  const ids = (type: string) => [...new Set(messages.filter((m) => m.sender_type === type && m.sender_id !== null).map((m) => m.sender_id!))];
  const [users, contacts, bots] = await Promise.all([
    ids('User').length ? db.selectFrom('users').select(['id', 'name']).where('id', 'in', ids('User')).execute() : [],
    ids('Contact').length ? db.selectFrom('contacts').select(['id', 'name']).where('id', 'in', ids('Contact')).execute() : [],
    ids('AgentBot').length ? db.selectFrom('agent_bots').select(['id', 'name']).where('id', 'in', ids('AgentBot')).execute() : [],
  ]);
  const out = new Map<string, string>();
  for (const u of users) out.set(`User:${u.id}`, u.name);
  for (const c of contacts) out.set(`Contact:${c.id}`, c.name);
  for (const b of bots) out.set(`AgentBot:${b.id}`, b.name);
  return out;
}

/** api/v1/models/_conversation.json.jbuilder — the conversations/search payload entries. */
export async function presentSearchConversations(
  db: Db,
  rows: ConversationRow[],
  matches: Map<number, MessageRow[]>,
): Promise<Record<string, unknown>[]> {
  if (rows.length === 0) return [];
  const contactIds = [...new Set(rows.map((r) => r.contact_id))];
  const inboxIds = [...new Set(rows.map((r) => r.inbox_id))];
  const allMessages = [...matches.values()].flat();
  const [contacts, inboxes, names] = await Promise.all([
    db.selectFrom('contacts').select(['id', 'name']).where('id', 'in', contactIds).execute(),
    db.selectFrom('inboxes').select(['id', 'name', 'channel_type']).where('id', 'in', inboxIds).execute(),
    senderNames(db, allMessages),
  ]);
  const contactById = new Map(contacts.map((c) => [c.id, c]));
  const inboxById = new Map(inboxes.map((i) => [i.id, i]));
  return rows.map((row) => {
    const contact = contactById.get(row.contact_id);
    const inbox = inboxById.get(row.inbox_id);
    return {
      id: row.display_id,
      uuid: row.uuid,
      created_at: unixSeconds(row.created_at),
      contact: contact ? { id: contact.id, name: contact.name } : { id: row.contact_id, name: null },
      inbox: inbox ? { id: inbox.id, name: inbox.name, channel_type: inbox.channel_type } : null,
      messages: (matches.get(row.id) ?? []).map((m) => {
        const out: Record<string, unknown> = { content: m.content, id: m.id };
        const name = m.sender_type && m.sender_id !== null ? names.get(`${m.sender_type}:${m.sender_id}`) : undefined;
        if (name !== undefined) out.sender_name = name;
        out.message_type = m.message_type;
        out.created_at = unixSeconds(m.created_at);
        return out;
      }),
      account_id: row.account_id,
    };
  });
}
