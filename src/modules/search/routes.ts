import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { sql, type SqlBool } from 'kysely';
import { accessibleInboxIds, currentAccount } from '../../auth/guard.js';
import type { AppContext } from '../../context.js';
import { parseJson, type JsonObject } from '../../db/json.js';
import type { Row } from '../../db/types.js';
import { unixSeconds } from '../../db/time.js';
import { pageNumber } from '../../lib/params.js';
import { ilike } from '../conversations/finder.js';
import { presentMessages } from '../messages/presenter.js';
import { availableName } from '../users/presenter.js';
import { roleName } from '../users/service.js';

const PER_PAGE = 15;
const THREE_MONTHS_MS = 90 * 86_400_000;

const SearchQuery = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 1000 })),
  page: Type.Optional(Type.String({ maxLength: 12 })),
});

interface Scope {
  ctx: AppContext;
  accountId: number;
  /** null: every inbox of the account (administrators). */
  inboxIds: number[] | null;
  q: string;
  page: number;
}

/** accounts/search/_contact.json.jbuilder */
function contactJson(c: Row<'contacts'>): Record<string, unknown> {
  return {
    email: c.email,
    id: c.id,
    name: c.name,
    phone_number: c.phone_number,
    identifier: c.identifier,
    additional_attributes: parseJson<JsonObject>(c.additional_attributes, {}),
    last_activity_at: unixSeconds(c.last_activity_at),
  };
}

/** SearchService#filter_contacts: contacts with an email, phone or identifier, latest activity first. */
async function searchContacts(s: Scope): Promise<Record<string, unknown>[]> {
  const rows = await s.ctx.db
    .selectFrom('contacts')
    .selectAll()
    .where('account_id', '=', s.accountId)
    .where((eb) =>
      eb.or([
        ilike(s.ctx, 'contacts.name', s.q),
        ilike(s.ctx, 'contacts.email', s.q),
        ilike(s.ctx, 'contacts.phone_number', s.q),
        ilike(s.ctx, 'contacts.identifier', s.q),
      ]),
    )
    .where(sql<SqlBool>`(coalesce(email, '') <> '' or coalesce(phone_number, '') <> '' or coalesce(identifier, '') <> '')`)
    .orderBy(sql`last_activity_at desc nulls last`)
    .orderBy('id', 'desc')
    .limit(PER_PAGE)
    .offset((s.page - 1) * PER_PAGE)
    .execute();
  return rows.map(contactJson);
}

/** SearchService#filter_messages (the LIKE variant): the last three months, newest first. */
async function searchMessages(s: Scope): Promise<Record<string, unknown>[]> {
  if (s.inboxIds !== null && s.inboxIds.length === 0) return [];
  let query = s.ctx.db
    .selectFrom('messages')
    .selectAll()
    .where('account_id', '=', s.accountId)
    .where('created_at', '>=', Date.now() - THREE_MONTHS_MS)
    .where(ilike(s.ctx, 'messages.content', s.q));
  if (s.inboxIds !== null) query = query.where('inbox_id', 'in', s.inboxIds);
  const rows = await query
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(PER_PAGE)
    .offset((s.page - 1) * PER_PAGE)
    .execute();
  return presentMessages(s.ctx.db, rows);
}

/** SearchService#filter_conversations: display id or the contact's name, email, phone, identifier. */
async function searchConversations(s: Scope): Promise<Record<string, unknown>[]> {
  if (s.inboxIds !== null && s.inboxIds.length === 0) return [];
  const db = s.ctx.db;
  let query = db
    .selectFrom('conversations')
    .innerJoin('contacts', 'contacts.id', 'conversations.contact_id')
    .selectAll('conversations')
    .where('conversations.account_id', '=', s.accountId)
    .where((eb) =>
      eb.or([
        s.ctx.engine === 'postgres'
          ? sql<SqlBool>`cast(conversations.display_id as text) ilike ${`%${s.q}%`}`
          : sql<SqlBool>`cast(conversations.display_id as text) like ${`%${s.q}%`}`,
        ilike(s.ctx, 'contacts.name', s.q),
        ilike(s.ctx, 'contacts.email', s.q),
        ilike(s.ctx, 'contacts.phone_number', s.q),
        ilike(s.ctx, 'contacts.identifier', s.q),
      ]),
    );
  if (s.inboxIds !== null) query = query.where('conversations.inbox_id', 'in', s.inboxIds);
  const rows = await query
    .orderBy('conversations.created_at', 'desc')
    .orderBy('conversations.id', 'desc')
    .limit(PER_PAGE)
    .offset((s.page - 1) * PER_PAGE)
    .execute();
  if (rows.length === 0) return [];

  const ids = rows.map((r) => r.id);
  const contactIds = [...new Set(rows.map((r) => r.contact_id))];
  const inboxIds = [...new Set(rows.map((r) => r.inbox_id))];
  const assigneeIds = [...new Set(rows.map((r) => r.assignee_id).filter((v): v is number => v !== null))];
  const [firstIds, contacts, inboxes, assignees, memberships] = await Promise.all([
    db.selectFrom('messages').select((eb) => ['conversation_id', eb.fn.min('id').as('id')]).where('conversation_id', 'in', ids).groupBy('conversation_id').execute(),
    db.selectFrom('contacts').selectAll().where('id', 'in', contactIds).execute(),
    db.selectFrom('inboxes').select(['id', 'channel_id', 'name', 'channel_type']).where('id', 'in', inboxIds).execute(),
    assigneeIds.length ? db.selectFrom('users').selectAll().where('id', 'in', assigneeIds).execute() : [],
    assigneeIds.length ? db.selectFrom('account_users').selectAll().where('account_id', '=', s.accountId).where('user_id', 'in', assigneeIds).execute() : [],
  ]);
  const messageIds = firstIds.map((r) => Number(r.id)).filter((n) => Number.isSafeInteger(n));
  const messageRows = messageIds.length ? await db.selectFrom('messages').selectAll().where('id', 'in', messageIds).execute() : [];
  const presented = await presentMessages(db, messageRows);
  const messageByConversation = new Map(messageRows.map((m, i) => [m.conversation_id, presented[i]]));
  const contactById = new Map(contacts.map((c) => [c.id, c]));
  const inboxById = new Map(inboxes.map((i) => [i.id, i]));
  const userById = new Map(assignees.map((u) => [u.id, u]));
  const roleByUser = new Map(memberships.map((m) => [m.user_id, m.role]));

  return rows.map((row) => {
    const contact = contactById.get(row.contact_id);
    const inbox = inboxById.get(row.inbox_id);
    const assignee = row.assignee_id !== null ? userById.get(row.assignee_id) : undefined;
    return {
      id: row.display_id,
      account_id: row.account_id,
      created_at: unixSeconds(row.created_at),
      message: messageByConversation.get(row.id) ?? {},
      contact: contact ? contactJson(contact) : {},
      inbox: inbox ? { id: inbox.id, channel_id: inbox.channel_id, name: inbox.name, channel_type: inbox.channel_type } : {},
      agent: assignee
        ? { id: assignee.id, available_name: availableName(assignee), email: assignee.email, name: assignee.name, role: roleName(roleByUser.get(assignee.id) ?? 0) }
        : {},
      additional_attributes: parseJson<JsonObject>(row.additional_attributes, {}),
    };
  });
}

/** Api::V1::Accounts::SearchController (SearchService). Help-center articles are not stored here: always []. */
export const searchRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const ctx = app.ctx;
  const scope = async (request: FastifyRequest<{ Querystring: { q?: string; page?: string } }>): Promise<Scope> => ({
    ctx,
    accountId: currentAccount(request).id,
    inboxIds: await accessibleInboxIds(ctx, request),
    q: (request.query.q ?? '').trim(),
    page: pageNumber(request.query.page),
  });

  app.get('/search', { schema: { querystring: SearchQuery } }, async (request) => {
    const s = await scope(request);
    const [contacts, messages, conversations] = await Promise.all([searchContacts(s), searchMessages(s), searchConversations(s)]);
    return { payload: { conversations, contacts, messages, articles: [] } };
  });
  app.get('/search/conversations', { schema: { querystring: SearchQuery } }, async (request) => ({
    payload: { conversations: await searchConversations(await scope(request)) },
  }));
  app.get('/search/contacts', { schema: { querystring: SearchQuery } }, async (request) => ({
    payload: { contacts: await searchContacts(await scope(request)) },
  }));
  app.get('/search/messages', { schema: { querystring: SearchQuery } }, async (request) => ({
    payload: { messages: await searchMessages(await scope(request)) },
  }));
  app.get('/search/articles', { schema: { querystring: SearchQuery } }, async () => ({ payload: { articles: [] } }));
};
