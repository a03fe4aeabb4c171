import { precompiledIn } from '../../db/precompiled.js';
import type { Db } from '../../context.js';
import { parseJson, type JsonObject } from '../../db/json.js';
import type { Kysely } from 'kysely';
import type { Database, Row } from '../../db/types.js';
import { EpochCache, readEpoch } from '../../db/epochs.js';
import { bool, isoTime, unixSeconds } from '../../db/time.js';
import { withPresence, type PresenceRule } from '../../realtime/presence.js';
import { presentAgent } from '../users/presenter.js';

export type ContactRow = Row<'contacts'>;
export type ContactInboxRow = Row<'contact_inboxes'>;
export type InboxRow = Row<'inboxes'>;
export type NoteRow = Row<'notes'>;

/** AvailabilityStatusable#contact_availability_status. */
export const contactAvailabilityRule = (contact: Pick<ContactRow, 'account_id' | 'id'>): PresenceRule => ({
  accountId: contact.account_id,
  type: 'Contact',
  id: contact.id,
  present: 'online',
  absent: 'offline',
});

/** api/v1/models/_inbox_slim.json.jbuilder (API and website channels have no provider). */
export function presentInboxSlim(inbox: InboxRow): Record<string, unknown> {
  return {
    id: inbox.id,
    avatar_url: inbox.avatar_url ?? '',
    channel_id: inbox.channel_id,
    name: inbox.name,
    channel_type: inbox.channel_type,
    provider: null,
  };
}

/**
 * An Inbox record serialised by Rails' as_json (what `json.inbox @contact_inbox.inbox` renders in
 * contacts/create.json.jbuilder): the table's columns, times in ISO 8601.
 */
export function presentInboxRecord(inbox: InboxRow): Record<string, unknown> {
  return {
    id: inbox.id,
    channel_id: inbox.channel_id,
    account_id: inbox.account_id,
    name: inbox.name,
    created_at: isoTime(inbox.created_at),
    updated_at: isoTime(inbox.updated_at),
    channel_type: inbox.channel_type,
    enable_auto_assignment: bool(inbox.enable_auto_assignment),
    greeting_enabled: bool(inbox.greeting_enabled),
    greeting_message: inbox.greeting_message,
    email_address: inbox.email_address,
    working_hours_enabled: bool(inbox.working_hours_enabled),
    out_of_office_message: inbox.out_of_office_message,
    timezone: inbox.timezone,
    enable_email_collect: bool(inbox.enable_email_collect),
    csat_survey_enabled: bool(inbox.csat_survey_enabled),
    allow_messages_after_resolved: bool(inbox.allow_messages_after_resolved),
    auto_assignment_config: parseJson<JsonObject>(inbox.auto_assignment_config, {}),
    lock_to_single_conversation: bool(inbox.lock_to_single_conversation),
    portal_id: null,
    sender_name_type: inbox.sender_name_type === 1 ? 'business_name' : 'friendly',
    business_name: inbox.business_name,
    csat_config: parseJson<JsonObject>(inbox.csat_config, {}),
  };
}

/** api/v1/models/_contact_inbox.json.jbuilder */
export function presentContactInbox(contactInbox: Pick<ContactInboxRow, 'source_id'>, inbox: InboxRow): Record<string, unknown> {
  return { source_id: contactInbox.source_id, inbox: presentInboxSlim(inbox) };
}

function contactBase(contact: ContactRow): Record<string, unknown> {
  const out: Record<string, unknown> = {
    additional_attributes: parseJson<JsonObject>(contact.additional_attributes, {}),
    availability_status: 'offline',
    email: contact.email,
    id: contact.id,
    name: contact.name,
    phone_number: contact.phone_number,
    blocked: bool(contact.blocked),
    identifier: contact.identifier,
    thumbnail: contact.avatar_url ?? '',
    custom_attributes: parseJson<JsonObject>(contact.custom_attributes, {}),
  };
  if (contact.last_activity_at !== null) out.last_activity_at = unixSeconds(contact.last_activity_at);
  out.created_at = unixSeconds(contact.created_at);
  return withPresence(out, contactAvailabilityRule(contact));
}

/** The contact inboxes of many contacts at once, keyed by contact id, oldest first. */
async function contactInboxesOf(db: Db, contactIds: number[]): Promise<Map<number, Record<string, unknown>[]>> {
  const byContact = new Map<number, Record<string, unknown>[]>();
  if (contactIds.length === 0) return byContact;
  const rows = await db
    .selectFrom('contact_inboxes')
    .select(['contact_id', 'source_id', 'inbox_id'])
    .where('contact_id', 'in', contactIds)
    .orderBy('id')
    .execute();
  const inboxes = await inboxesById(db, [...new Set(rows.map((r) => r.inbox_id))]);
  for (const row of rows) {
    const inbox = inboxes.get(row.inbox_id);
    if (!inbox) continue;
    const list = byContact.get(row.contact_id) ?? [];
    list.push(presentContactInbox(row, inbox));
    byContact.set(row.contact_id, list);
  }
  return byContact;
}

// A handful of inboxes serve every contact: reused while the render epoch (which moves with every
// inbox update or delete, migration 0610) stands.
const inboxCache = new EpochCache<InboxRow>(1_000);

async function inboxesById(db: Db, ids: number[]): Promise<Map<number, InboxRow>> {
  if (ids.length === 0) return new Map();
  const root = db as Kysely<Database>;
  const found = await inboxCache.getMany(root, await readEpoch(root, 'render_epochs', 1), ids.map(String), async (missing) => {
    const rows = await db.selectFrom('inboxes').selectAll().where('id', 'in', missing.map(Number)).execute();
    return new Map(rows.map((r) => [String(r.id), r]));
  });
  return new Map([...found].map(([id, inbox]) => [Number(id), inbox]));
}

/**
 * api/v1/models/_contact.json.jbuilder. `withContactInboxes` (the /contacts endpoints' default)
 * adds `contact_inboxes`.
 */
export async function presentContact(db: Db, contact: ContactRow, options: { withContactInboxes?: boolean } = {}): Promise<Record<string, unknown>> {
  return (await presentContacts(db, [contact], options))[0];
}

/** presentContact for a page of contacts with one query for all their contact inboxes. */
export async function presentContacts(
  db: Db,
  contacts: ContactRow[],
  options: { withContactInboxes?: boolean } = {},
): Promise<Record<string, unknown>[]> {
  const withInboxes = options.withContactInboxes ?? true;
  const inboxes = withInboxes ? await contactInboxesOf(db, contacts.map((c) => c.id)) : undefined;
  return contacts.map((contact) => {
    const out = contactBase(contact);
    if (inboxes) out.contact_inboxes = inboxes.get(contact.id) ?? [];
    return out;
  });
}

/** Contacts by id, every column (compiled once per number of ids). */
export const contactsByIds = precompiledIn((db, ids) => db.selectFrom('contacts').selectAll().where('id', 'in', ids));

/** The columns Contact#push_event_data shows (a narrower read where only that shape is rendered). */
export const CONTACT_PUSH_COLUMNS = ['id', 'name', 'email', 'phone_number', 'identifier', 'avatar_url', 'blocked', 'additional_attributes', 'custom_attributes'] as const;
export type ContactPushRow = Pick<ContactRow, (typeof CONTACT_PUSH_COLUMNS)[number]>;

/** Contact#push_event_data: `meta.sender` of a conversation, `sender` of a message, realtime payloads. */
export function contactPushData(contact: ContactPushRow): Record<string, unknown> {
  return {
    additional_attributes: parseJson<JsonObject>(contact.additional_attributes, {}),
    custom_attributes: parseJson<JsonObject>(contact.custom_attributes, {}),
    email: contact.email,
    id: contact.id,
    identifier: contact.identifier,
    name: contact.name,
    phone_number: contact.phone_number,
    thumbnail: contact.avatar_url ?? '',
    blocked: bool(contact.blocked),
    type: 'contact',
  };
}

/** api/v1/models/_note.json.jbuilder; `user` is absent when the author is gone. */
export async function presentNotes(db: Db, notes: NoteRow[]): Promise<Record<string, unknown>[]> {
  const userIds = [...new Set(notes.map((n) => n.user_id).filter((id): id is number => id !== null))];
  const users = userIds.length ? await db.selectFrom('users').selectAll().where('id', 'in', userIds).execute() : [];
  const accountIds = [...new Set(notes.map((n) => n.account_id))];
  const memberships = userIds.length
    ? await db.selectFrom('account_users').selectAll().where('user_id', 'in', userIds).where('account_id', 'in', accountIds).execute()
    : [];
  return notes.map((note) => {
    const out: Record<string, unknown> = { id: note.id, content: note.content, account_id: note.account_id, contact_id: note.contact_id };
    const user = users.find((u) => u.id === note.user_id);
    if (user) {
      const membership = memberships.find((m) => m.user_id === user.id && m.account_id === note.account_id) ?? {
        id: 0,
        account_id: note.account_id,
        user_id: user.id,
        role: 0,
        inviter_id: null,
        active_at: null,
        availability: 0,
        auto_offline: 1,
        created_at: note.created_at,
        updated_at: note.created_at,
      };
      out.user = presentAgent(user, membership);
    }
    out.created_at = unixSeconds(note.created_at);
    out.updated_at = unixSeconds(note.updated_at);
    return out;
  });
}

export async function presentNote(db: Db, note: NoteRow): Promise<Record<string, unknown>> {
  return (await presentNotes(db, [note]))[0];
}
