import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { accessibleInboxIds, assertInboxAccess, currentAccount, currentUser, requireAdministrator } from '../../auth/guard.js';
import { parseJson, toJson, type JsonObject } from '../../db/json.js';
import { now } from '../../db/time.js';
import { unprocessable } from '../../lib/errors.js';
import { castBoolean, pageNumber, present, unwrap } from '../../lib/params.js';
import { findContacts } from './finder.js';
import { importExportRoutes } from './import-export.js';
import {
  presentContact,
  presentContactInbox,
  presentContacts,
  presentInboxRecord,
  presentInboxSlim,
  presentNote,
  presentNotes,
  type ContactRow,
} from './presenter.js';
import {
  ContactBody,
  ContactIdParams,
  ContactInboxBody,
  DestroyCustomAttributesBody,
  FilterBody,
  ListQuery,
  MergeBody,
  NoteBody,
  NoteParams,
  SearchQuery,
  type ContactFieldsT,
  type ListQueryT,
} from './schemas.js';
import {
  contactableInboxes,
  contactLabels,
  createContact,
  createNote,
  deleteContact,
  deleteNote,
  findAccountInbox,
  findContact,
  findNote,
  findOrCreateContactInbox,
  inTransaction,
  listNotes,
  mergeContacts,
  setContactLabels,
  updateContact,
  updateNote,
  type ContactInput,
} from './service.js';
import { LabelsBody } from '../labels/schemas.js';
import { permittedLabels } from '../labels/taggings.js';

const CONTACT_FIELDS = ['name', 'email', 'phone_number', 'identifier', 'avatar_url', 'blocked', 'additional_attributes', 'custom_attributes'] as const;

/** ContactsController#permitted_params. */
function permitted(body: unknown): ContactInput {
  const fields = unwrap<ContactFieldsT>(body, 'contact');
  const out: Record<string, unknown> = {};
  for (const key of CONTACT_FIELDS) if (fields[key] !== undefined) out[key] = fields[key];
  return out as ContactInput;
}

/** include_contact_inboxes defaults to true; only the string "true" keeps it on when given. */
const withInboxes = (q: { include_contact_inboxes?: string }): boolean =>
  q.include_contact_inboxes === undefined || q.include_contact_inboxes === '' ? true : q.include_contact_inboxes === 'true';

const labelsOf = (q: ListQueryT): string[] | undefined => {
  const list = [...(q.labels ?? []), ...(q['labels[]'] ?? [])].filter((l) => l.trim() !== '');
  return list.length ? list : undefined;
};

async function listPayload(request: FastifyRequest, contacts: ContactRow[], count: number, page: number, inboxes: boolean) {
  return {
    meta: { count, current_page: page },
    payload: await presentContacts(request.server.ctx.db, contacts, { withContactInboxes: inboxes }),
  };
}

/**
 * /api/v1/accounts/:account_id/contacts and friends (ContactsController, Contacts::*Controller,
 * Actions::ContactMergesController). ContactPolicy: every member reads and writes contacts,
 * only administrators delete, import and export them.
 */
export const contactsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const ctx = app.ctx;

  app.get('/contacts', { schema: { querystring: ListQuery } }, async (request) => {
    const account = currentAccount(request);
    const page = pageNumber(request.query.page);
    const { contacts, count } = await findContacts(ctx, { accountId: account.id, page, sort: request.query.sort, labels: labelsOf(request.query) });
    return listPayload(request, contacts, count, page, withInboxes(request.query));
  });

  app.get('/contacts/search', { schema: { querystring: SearchQuery } }, async (request, reply) => {
    const account = currentAccount(request);
    if (!present(request.query.q)) return reply.status(422).send({ error: 'Specify search string with parameter q' });
    const page = pageNumber(request.query.page);
    const { contacts, count } = await findContacts(ctx, {
      accountId: account.id,
      page,
      sort: request.query.sort,
      labels: labelsOf(request.query),
      search: request.query.q,
    });
    return listPayload(request, contacts, count, page, withInboxes(request.query));
  });

  app.post('/contacts/filter', { schema: { querystring: ListQuery, body: FilterBody } }, async (request) => {
    const account = currentAccount(request);
    const body = request.body ?? {};
    const page = pageNumber(request.query.page ?? body.page);
    const { contacts, count } = await findContacts(ctx, {
      accountId: account.id,
      page,
      sort: request.query.sort,
      filter: body.payload === undefined ? null : body.payload,
    });
    return listPayload(request, contacts, count, page, withInboxes(request.query));
  });

  app.post('/contacts', { schema: { body: ContactBody } }, async (request) => {
    const account = currentAccount(request);
    const body = request.body ?? {};
    const input = permitted(body);
    const inboxId = body.inbox_id;
    const result = await ctx.db.transaction().execute(async (trx) => {
      const contact = await createContact(trx, account.id, input);
      if (inboxId === undefined || inboxId === null || inboxId === '') return { contact, contactInbox: null, inbox: null };
      const inbox = await findAccountInbox(trx, account.id, String(inboxId));
      const contactInbox = await findOrCreateContactInbox(trx, { accountId: account.id, contactId: contact.id, inboxId: inbox.id, sourceId: body.source_id as string | null | undefined });
      return { contact, contactInbox, inbox };
    });
    ctx.events.emit('contact.created', { accountId: account.id, contactId: result.contact.id });
    return {
      payload: {
        contact: await presentContact(ctx.db, result.contact, { withContactInboxes: true }),
        contact_inbox: {
          inbox: result.inbox ? presentInboxRecord(result.inbox) : null,
          source_id: result.contactInbox?.source_id ?? null,
        },
      },
    };
  });

  app.get('/contacts/:id', { schema: { params: ContactIdParams, querystring: ListQuery } }, async (request) => {
    const contact = await findContact(ctx.db, currentAccount(request).id, request.params.id);
    return { payload: await presentContact(ctx.db, contact, { withContactInboxes: withInboxes(request.query) }) };
  });

  const update = async (request: FastifyRequest<{ Params: { id: string }; Querystring: ListQueryT; Body: unknown }>) => {
    const account = currentAccount(request);
    const contact = await findContact(ctx.db, account.id, request.params.id);
    const updated = await inTransaction(ctx.db, (trx) => updateContact(trx, contact, permitted(request.body)));
    ctx.events.emit('contact.updated', { accountId: account.id, contactId: updated.id });
    return { payload: await presentContact(ctx.db, updated, { withContactInboxes: withInboxes(request.query) }) };
  };
  app.put('/contacts/:id', { schema: { params: ContactIdParams, querystring: ListQuery, body: ContactBody } }, update);
  app.patch('/contacts/:id', { schema: { params: ContactIdParams, querystring: ListQuery, body: ContactBody } }, update);

  app.delete('/contacts/:id', { schema: { params: ContactIdParams } }, async (request, reply) => {
    const account = currentAccount(request);
    requireAdministrator(request);
    const contact = await findContact(ctx.db, account.id, request.params.id);
    await deleteContact(ctx.db, contact);
    return reply.status(200).send();
  });

  app.delete('/contacts/:id/avatar', { schema: { params: ContactIdParams } }, async (request) => {
    const account = currentAccount(request);
    const contact = await findContact(ctx.db, account.id, request.params.id);
    const updated = await ctx.db
      .updateTable('contacts')
      .set({ avatar_url: null, updated_at: now() })
      .where('id', '=', contact.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    return { payload: await presentContact(ctx.db, updated, { withContactInboxes: false }) };
  });

  app.post('/contacts/:id/destroy_custom_attributes', { schema: { params: ContactIdParams, body: DestroyCustomAttributesBody } }, async (request) => {
    const account = currentAccount(request);
    const contact = await findContact(ctx.db, account.id, request.params.id);
    const raw = request.body?.custom_attributes;
    const keys = (Array.isArray(raw) ? raw : raw === undefined || raw === null ? [] : [raw]).map(String);
    const custom = parseJson<JsonObject>(contact.custom_attributes, {});
    for (const key of keys) delete custom[key];
    const updated = await ctx.db
      .updateTable('contacts')
      .set({ custom_attributes: toJson(custom), updated_at: now() })
      .where('id', '=', contact.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    ctx.events.emit('contact.updated', { accountId: account.id, contactId: updated.id });
    return { payload: await presentContact(ctx.db, updated, { withContactInboxes: true }) };
  });

  app.get('/contacts/:id/contactable_inboxes', { schema: { params: ContactIdParams } }, async (request) => {
    const account = currentAccount(request);
    const contact = await findContact(ctx.db, account.id, request.params.id);
    const allowed = await accessibleInboxIds(ctx, request);
    const list = await contactableInboxes(ctx.db, contact, allowed);
    return { payload: list.map((c) => ({ inbox: presentInboxSlim(c.inbox), source_id: c.source_id })) };
  });

  app.post('/contacts/:id/contact_inboxes', { schema: { params: ContactIdParams, body: ContactInboxBody } }, async (request) => {
    const account = currentAccount(request);
    const contact = await findContact(ctx.db, account.id, request.params.id);
    const body = request.body ?? {};
    if (body.inbox_id === undefined || body.inbox_id === null || body.inbox_id === '') throw unprocessable('param is missing or the value is empty: inbox_id');
    const inbox = await findAccountInbox(ctx.db, account.id, String(body.inbox_id));
    await assertInboxAccess(ctx, request, inbox.id);
    const contactInbox = await inTransaction(ctx.db, (trx) =>
      findOrCreateContactInbox(trx, {
        accountId: account.id,
        contactId: contact.id,
        inboxId: inbox.id,
        sourceId: body.source_id as string | null | undefined,
        hmacVerified: castBoolean(body.hmac_verified) ?? false,
      }),
    );
    return presentContactInbox(contactInbox, inbox);
  });

  // ---- labels ----
  app.get('/contacts/:id/labels', { schema: { params: ContactIdParams } }, async (request) => {
    const contact = await findContact(ctx.db, currentAccount(request).id, request.params.id);
    return { payload: await contactLabels(ctx.db, contact.id) };
  });

  app.post('/contacts/:id/labels', { schema: { params: ContactIdParams, body: LabelsBody } }, async (request) => {
    const contact = await findContact(ctx.db, currentAccount(request).id, request.params.id);
    return { payload: await setContactLabels(ctx.db, contact, permittedLabels(request.body?.labels)) };
  });

  // ---- notes ----
  const noteContent = (body: unknown): unknown => {
    const fields = unwrap<{ content?: string | null }>(body, 'note');
    if (fields.content === undefined) throw unprocessable('param is missing or the value is empty: note');
    return fields.content;
  };

  app.get('/contacts/:id/notes', { schema: { params: ContactIdParams } }, async (request) => {
    const contact = await findContact(ctx.db, currentAccount(request).id, request.params.id);
    return presentNotes(ctx.db, await listNotes(ctx.db, contact));
  });

  app.post('/contacts/:id/notes', { schema: { params: ContactIdParams, body: NoteBody } }, async (request) => {
    const contact = await findContact(ctx.db, currentAccount(request).id, request.params.id);
    const note = await createNote(ctx.db, contact, currentUser(request).id, noteContent(request.body));
    return presentNote(ctx.db, note);
  });

  app.get('/contacts/:id/notes/:note_id', { schema: { params: NoteParams } }, async (request) => {
    const contact = await findContact(ctx.db, currentAccount(request).id, request.params.id);
    return presentNote(ctx.db, await findNote(ctx.db, contact, request.params.note_id));
  });

  const updateNoteHandler = async (request: FastifyRequest<{ Params: { id: string; note_id: string }; Body: unknown }>) => {
    const contact = await findContact(ctx.db, currentAccount(request).id, request.params.id);
    const note = await findNote(ctx.db, contact, request.params.note_id);
    const updated = await updateNote(ctx.db, note, currentUser(request).id, noteContent(request.body));
    return presentNote(ctx.db, updated);
  };
  app.patch('/contacts/:id/notes/:note_id', { schema: { params: NoteParams, body: NoteBody } }, updateNoteHandler);
  app.put('/contacts/:id/notes/:note_id', { schema: { params: NoteParams, body: NoteBody } }, updateNoteHandler);

  app.delete('/contacts/:id/notes/:note_id', { schema: { params: NoteParams } }, async (request, reply) => {
    const contact = await findContact(ctx.db, currentAccount(request).id, request.params.id);
    await deleteNote(ctx.db, await findNote(ctx.db, contact, request.params.note_id));
    return reply.status(200).send();
  });

  // ---- merge ----
  app.post('/actions/contact_merge', { schema: { body: MergeBody } }, async (request) => {
    const account = currentAccount(request);
    const body = request.body ?? {};
    const base = await findContact(ctx.db, account.id, String(body.base_contact_id ?? ''));
    const mergee = await findContact(ctx.db, account.id, String(body.mergee_contact_id ?? ''));
    const merged = await ctx.db.transaction().execute((trx) => mergeContacts(trx, base, mergee));
    ctx.events.emit('contact.updated', { accountId: account.id, contactId: merged.id });
    return presentContact(ctx.db, merged, { withContactInboxes: false });
  });

  await app.register(importExportRoutes);
};
