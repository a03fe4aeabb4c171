import type { Db } from '../../context.js';
import { isPlainObject, parseJson, toJson, type JsonObject } from '../../db/json.js';
import { now } from '../../db/time.js';
import { precompiled } from '../../db/precompiled.js';
import type { Row } from '../../db/types.js';
import { asTaken, isUniqueViolation, notFound, RecordErrors, unprocessable } from '../../lib/errors.js';
import { castBoolean, recordId } from '../../lib/params.js';
import { secureToken, uuid } from '../../lib/random.js';
import { isPresent } from '../../realtime/presence.js';
import { validateCustomAttributeValues } from '../custom-attributes/service.js';
import { replaceTaggings } from '../labels/taggings.js';
import type { ContactInboxRow, ContactRow, InboxRow, NoteRow } from './presenter.js';

export type { ContactInboxRow, ContactRow, NoteRow } from './presenter.js';

/** Devise.email_regexp, as Chatwoot's Contact validates it. */
export const CONTACT_EMAIL_FORMAT = /^[^@\s]+@[^@\s]+$/;
/** E.164: a plus, a non-zero digit, at most 15 digits in all. */
export const E164_FORMAT = /^\+[1-9]\d{1,14}$/;

export const CONTACT_TYPE = { visitor: 0, lead: 1, customer: 2 } as const;

/** What a caller may set on a contact (ContactsController#permitted_params). */
export interface ContactInput {
  name?: string | null;
  email?: string | null;
  phone_number?: string | null;
  identifier?: string | null;
  avatar_url?: string | null;
  blocked?: boolean | string | number | null;
  additional_attributes?: unknown;
  custom_attributes?: unknown;
}

/** Runs `fn` in the caller's transaction, or opens one. */
export function inTransaction<T>(db: Db, fn: (trx: Db) => Promise<T>): Promise<T> {
  return db.isTransaction ? fn(db) : db.transaction().execute(fn);
}

const blankToNull = (v: string | null | undefined): string | null => {
  if (v === undefined || v === null) return null;
  const s = String(v).trim();
  return s === '' ? null : s;
};

function objectAttribute(errors: RecordErrors, name: string, value: unknown): JsonObject | undefined {
  if (value === undefined) return undefined;
  if (value === null || value === '') return {};
  if (!isPlainObject(value)) {
    errors.add(name, 'must be a JSON object');
    return undefined;
  }
  return value;
}

/** The columns a contact row gets from a validated input (before uniqueness checks). */
interface ContactFields {
  name: string;
  email: string | null;
  phone_number: string | null;
  identifier: string | null;
  avatar_url: string | null;
  blocked: number;
  additional_attributes: JsonObject;
  custom_attributes: JsonObject;
  location: string;
  country_code: string;
  contact_type: number;
}

/**
 * Applies `input` onto `base` like Contact's before_validation/before_save callbacks:
 * emails lower-cased, blanks become null, location and country_code follow
 * additional_attributes, a visitor with an email or phone number becomes a lead.
 */
function buildFields(base: ContactFields, input: ContactInput, mergeJson: boolean, errors: RecordErrors): ContactFields {
  const out = { ...base };
  if (input.name !== undefined) out.name = input.name === null ? '' : String(input.name);
  if (input.email !== undefined) out.email = blankToNull(input.email)?.toLowerCase() ?? null;
  if (input.phone_number !== undefined) out.phone_number = blankToNull(input.phone_number);
  if (input.identifier !== undefined) out.identifier = blankToNull(input.identifier);
  if (input.avatar_url !== undefined) out.avatar_url = blankToNull(input.avatar_url);
  if (input.blocked !== undefined) out.blocked = castBoolean(input.blocked) ? 1 : 0;
  const additional = objectAttribute(errors, 'additional_attributes', input.additional_attributes);
  if (additional) out.additional_attributes = mergeJson ? { ...base.additional_attributes, ...additional } : additional;
  const custom = objectAttribute(errors, 'custom_attributes', input.custom_attributes);
  if (custom) out.custom_attributes = mergeJson ? { ...base.custom_attributes, ...custom } : custom;

  if (out.email !== null && !CONTACT_EMAIL_FORMAT.test(out.email)) errors.add('email', 'Invalid email');
  if (out.phone_number !== null && !E164_FORMAT.test(out.phone_number)) errors.add('phone_number', 'should be in e164 format');

  const city = out.additional_attributes.city;
  const country = out.additional_attributes.country;
  out.location = typeof city === 'string' ? city : '';
  out.country_code = typeof country === 'string' ? country : '';
  if (out.contact_type === CONTACT_TYPE.visitor) {
    const social = Object.entries(out.additional_attributes).some(([k, v]) => k.startsWith('social_') && v !== null && v !== '' && v !== undefined);
    if (out.email || out.phone_number || social) out.contact_type = CONTACT_TYPE.lead;
  }
  return out;
}

async function checkUniqueness(db: Db, accountId: number, fields: ContactFields, existing: ContactRow | null, errors: RecordErrors): Promise<void> {
  for (const column of ['email', 'phone_number', 'identifier'] as const) {
    const value = fields[column];
    // A value the contact already has is its alone: the account's unique index says so.
    if (value === null || (existing !== null && existing[column] === value)) continue;
    let q = db.selectFrom('contacts').select('id').where('account_id', '=', accountId).where(column, '=', value);
    if (existing !== null) q = q.where('id', '<>', existing.id);
    if (await q.executeTakeFirst()) errors.add(column, 'has already been taken');
  }
}

/** Which unique column a failed write collided on (a concurrent insert won the race). */
function uniqueViolationError(error: unknown): Error {
  const text = String((error as { message?: unknown })?.message ?? '') + String((error as { constraint?: unknown })?.constraint ?? '');
  const column = /phone/.test(text) ? 'phone_number' : /identifier/.test(text) ? 'identifier' : 'email';
  return new RecordErrors().add(column, 'has already been taken').toError();
}

const EMPTY_FIELDS: ContactFields = {
  name: '',
  email: null,
  phone_number: null,
  identifier: null,
  avatar_url: null,
  blocked: 0,
  additional_attributes: {},
  custom_attributes: {},
  location: '',
  country_code: '',
  contact_type: CONTACT_TYPE.visitor,
};

function fieldsOf(contact: ContactRow): ContactFields {
  return {
    name: contact.name,
    email: contact.email,
    phone_number: contact.phone_number,
    identifier: contact.identifier,
    avatar_url: contact.avatar_url,
    blocked: contact.blocked,
    additional_attributes: parseJson<JsonObject>(contact.additional_attributes, {}),
    custom_attributes: parseJson<JsonObject>(contact.custom_attributes, {}),
    location: contact.location,
    country_code: contact.country_code,
    contact_type: contact.contact_type,
  };
}

/** Validates without writing: format, JSON objects, custom attribute definitions, uniqueness. */
export async function validateContactInput(db: Db, accountId: number, input: ContactInput, existing: ContactRow | null): Promise<ContactFields> {
  const errors = new RecordErrors();
  const fields = buildFields(existing ? fieldsOf(existing) : EMPTY_FIELDS, input, existing !== null, errors);
  errors.throwIfAny();
  if (isPlainObject(input.custom_attributes)) {
    await validateCustomAttributeValues(db, accountId, 'contact_attribute', input.custom_attributes);
  }
  await checkUniqueness(db, accountId, fields, existing, errors);
  errors.throwIfAny();
  return fields;
}

const rowValues = (f: ContactFields) => ({
  ...f,
  additional_attributes: toJson(f.additional_attributes),
  custom_attributes: toJson(f.custom_attributes),
});

/** Creates a contact in the account (Contact validations apply; 422 in Chatwoot's shape). */
export async function createContact(db: Db, accountId: number, input: ContactInput): Promise<ContactRow> {
  const fields = await validateContactInput(db, accountId, input, null);
  const t = now();
  try {
    return await db
      .insertInto('contacts')
      .values({ account_id: accountId, ...rowValues(fields), created_at: t, updated_at: t })
      .returningAll()
      .executeTakeFirstOrThrow();
  } catch (error) {
    if (isUniqueViolation(error)) throw uniqueViolationError(error);
    throw error;
  }
}

/** ContactsController#update: given fields replace, custom/additional attributes merge. */
export async function updateContact(db: Db, contact: ContactRow, input: ContactInput): Promise<ContactRow> {
  const fields = await validateContactInput(db, contact.account_id, input, contact);
  try {
    return await db
      .updateTable('contacts')
      .set({ ...rowValues(fields), updated_at: now() })
      .where('id', '=', contact.id)
      .returningAll()
      .executeTakeFirstOrThrow();
  } catch (error) {
    if (isUniqueViolation(error)) throw uniqueViolationError(error);
    throw error;
  }
}

/** The account's contact, or 404 (another account's id included). */
export async function findContact(db: Db, accountId: number, id: number | string): Promise<ContactRow> {
  const n = recordId(id);
  const row = await db.selectFrom('contacts').selectAll().where('id', '=', n).where('account_id', '=', accountId).executeTakeFirst();
  if (!row) throw notFound();
  return row;
}

/** The account's inbox, or 404. */
export async function findAccountInbox(db: Db, accountId: number, inboxId: number | string): Promise<InboxRow> {
  const n = recordId(inboxId);
  const inbox = await db.selectFrom('inboxes').selectAll().where('id', '=', n).where('account_id', '=', accountId).executeTakeFirst();
  if (!inbox) throw notFound();
  return inbox;
}

/** Channel types whose contact inboxes get a random source id when none is given (ContactInboxBuilder). */
const RANDOM_SOURCE_ID_CHANNELS = new Set(['Channel::Api', 'Channel::WebWidget']);

async function generateSourceId(db: Db, inbox: InboxRow, contactId: number): Promise<string> {
  if (RANDOM_SOURCE_ID_CHANNELS.has(inbox.channel_type)) return uuid();
  const contact = await db.selectFrom('contacts').select(['email', 'phone_number']).where('id', '=', contactId).executeTakeFirstOrThrow();
  if (inbox.channel_type === 'Channel::Email') {
    if (!contact.email) throw unprocessable('param is missing or the value is empty: contact email');
    return contact.email;
  }
  if (['Channel::Sms', 'Channel::TwilioSms', 'Channel::Whatsapp'].includes(inbox.channel_type)) {
    if (!contact.phone_number) throw unprocessable('param is missing or the value is empty: contact phone number');
    return inbox.channel_type === 'Channel::Whatsapp' ? contact.phone_number.replace('+', '') : contact.phone_number;
  }
  throw unprocessable(`Unsupported operation for this channel: ${inbox.channel_type}`);
}

export interface ContactInboxInput {
  accountId: number;
  contactId: number;
  inboxId: number;
  sourceId?: string | null;
  hmacVerified?: boolean;
}

/**
 * ContactInboxBuilder: the contact's contact inbox for (inbox, source_id), created when missing.
 * The inbox and the contact must belong to the account (404 otherwise). A source id already
 * used by another contact in that inbox is a 422.
 */
export async function findOrCreateContactInbox(db: Db, input: ContactInboxInput): Promise<ContactInboxRow> {
  const inbox = await findAccountInbox(db, input.accountId, input.inboxId);
  await findContact(db, input.accountId, input.contactId);
  const given = input.sourceId === undefined || input.sourceId === null ? '' : String(input.sourceId).trim();
  const sourceId = given !== '' ? given : await generateSourceId(db, inbox, input.contactId);
  const existing = await db.selectFrom('contact_inboxes').selectAll().where('inbox_id', '=', inbox.id).where('source_id', '=', sourceId).executeTakeFirst();
  if (existing) {
    if (existing.contact_id === input.contactId) return existing;
    throw new RecordErrors().add('source_id', 'has already been taken').toError();
  }
  const t = now();
  try {
    return await db
      .insertInto('contact_inboxes')
      .values({
        contact_id: input.contactId,
        inbox_id: inbox.id,
        source_id: sourceId,
        hmac_verified: input.hmacVerified ? 1 : 0,
        pubsub_token: secureToken(),
        created_at: t,
        updated_at: t,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  } catch (error) {
    throw asTaken(error, 'source_id');
  }
}

/** Deletes the contact with its conversations (and their messages), contact inboxes, notes, labels and the messages it sent. */
export async function deleteContact(db: Db, contact: ContactRow): Promise<void> {
  if (isPresent(contact.account_id, 'Contact', contact.id)) {
    const name = contact.name.charAt(0).toUpperCase() + contact.name.slice(1).toLowerCase();
    throw new RecordErrors().addFull('base', `${name} is Online, please try again later`).toError();
  }
  await inTransaction(db, async (trx) => {
    await trx.deleteFrom('messages').where('sender_type', '=', 'Contact').where('sender_id', '=', contact.id).execute();
    await trx.deleteFrom('taggings').where('taggable_type', '=', 'Contact').where('taggable_id', '=', contact.id).execute();
    await trx.deleteFrom('contacts').where('id', '=', contact.id).execute();
  });
}

// ---- labels (acts_as_taggable_on :labels) ----

export async function contactLabels(db: Db, contactId: number): Promise<string[]> {
  const rows = await db
    .selectFrom('taggings')
    .select('name')
    .where('taggable_type', '=', 'Contact')
    .where('taggable_id', '=', contactId)
    .orderBy('created_at')
    .orderBy('name')
    .execute();
  return rows.map((r) => r.name);
}

/** Replaces the contact's labels (Labelable#update_labels) with `wanted` (taggings.ts permittedLabels reads them from a request). */
export async function setContactLabels(db: Db, contact: ContactRow, wanted: string[]): Promise<string[]> {
  await inTransaction(db, async (trx) => {
    const current = await contactLabels(trx, contact.id);
    await replaceTaggings(trx, { accountId: contact.account_id, type: 'Contact', id: contact.id }, current, wanted, now());
  });
  return contactLabels(db, contact.id);
}

// ---- notes ----

export function listNotes(db: Db, contact: ContactRow): Promise<NoteRow[]> {
  return db.selectFrom('notes').selectAll().where('contact_id', '=', contact.id).orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
}

export async function findNote(db: Db, contact: ContactRow, id: number | string): Promise<NoteRow> {
  const n = recordId(id);
  const note = await db.selectFrom('notes').selectAll().where('id', '=', n).where('contact_id', '=', contact.id).executeTakeFirst();
  if (!note) throw notFound();
  return note;
}

function noteContent(content: unknown): string {
  const text = content === undefined || content === null ? '' : String(content);
  if (text.trim() === '') throw new RecordErrors().add('content', "can't be blank").toError();
  return text;
}

export async function createNote(db: Db, contact: ContactRow, userId: number | null, content: unknown): Promise<NoteRow> {
  const text = noteContent(content);
  const t = now();
  return db
    .insertInto('notes')
    .values({ account_id: contact.account_id, contact_id: contact.id, user_id: userId, content: text, created_at: t, updated_at: t })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** NotesController#update: the editor becomes the note's user, as Chatwoot's note_params merge does. */
export async function updateNote(db: Db, note: NoteRow, userId: number | null, content: unknown): Promise<NoteRow> {
  const text = noteContent(content);
  return db
    .updateTable('notes')
    .set({ content: text, user_id: userId, updated_at: now() })
    .where('id', '=', note.id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function deleteNote(db: Db, note: NoteRow): Promise<void> {
  await db.deleteFrom('notes').where('id', '=', note.id).execute();
}

// ---- contactable inboxes ----

/**
 * Contacts::ContactableInboxesService: every inbox of the account through which the contact
 * could be reached, with the source id to use. `allowedInboxIds` null = all.
 */
export async function contactableInboxes(
  db: Db,
  contact: ContactRow,
  allowedInboxIds: number[] | null,
): Promise<{ inbox: InboxRow; source_id: string }[]> {
  const inboxes = await db.selectFrom('inboxes').selectAll().where('account_id', '=', contact.account_id).orderBy('id').execute();
  const links = await db.selectFrom('contact_inboxes').selectAll().where('contact_id', '=', contact.id).orderBy('id').execute();
  const withConversations = new Set(
    (
      await db
        .selectFrom('conversations')
        .select('contact_inbox_id')
        .where('contact_id', '=', contact.id)
        .where('contact_inbox_id', 'is not', null)
        .execute()
    ).map((r) => r.contact_inbox_id),
  );
  const out: { inbox: InboxRow; source_id: string }[] = [];
  for (const inbox of inboxes) {
    if (allowedInboxIds !== null && !allowedInboxIds.includes(inbox.id)) continue;
    const latest = links.filter((l) => l.inbox_id === inbox.id).at(-1);
    switch (inbox.channel_type) {
      case 'Channel::Api':
        out.push({ inbox, source_id: latest?.source_id ?? uuid() });
        break;
      case 'Channel::WebWidget':
        if (latest && !withConversations.has(latest.id)) out.push({ inbox, source_id: latest.source_id });
        break;
      case 'Channel::Email':
        if (contact.email) out.push({ inbox, source_id: contact.email });
        break;
      case 'Channel::Whatsapp':
        if (contact.phone_number) out.push({ inbox, source_id: contact.phone_number.replace('+', '') });
        break;
      case 'Channel::Sms':
      case 'Channel::TwilioSms':
        if (contact.phone_number) out.push({ inbox, source_id: contact.phone_number });
        break;
      default:
        break;
    }
  }
  return out;
}

// ---- merge ----

const MERGEABLE = ['identifier', 'name', 'email', 'phone_number', 'additional_attributes', 'custom_attributes'] as const;

const isBlank = (v: unknown): boolean =>
  v === null || v === undefined || (typeof v === 'string' && v.trim() === '') || (isPlainObject(v) && Object.keys(v).length === 0) || (Array.isArray(v) && v.length === 0) || v === false;

function deepMerge(into: JsonObject, from: JsonObject): JsonObject {
  const out: JsonObject = { ...into };
  for (const [k, v] of Object.entries(from)) {
    out[k] = isPlainObject(out[k]) && isPlainObject(v) ? deepMerge(out[k] as JsonObject, v) : v;
  }
  return out;
}

/**
 * ContactMergeAction: the mergee's conversations, messages it sent, contact inboxes, notes and
 * labels move to the base; attributes merge with the base's values winning
 * (mergee.deep_merge(base), blanks ignored at the top level); the mergee is deleted.
 */
export async function mergeContacts(db: Db, base: ContactRow, mergee: ContactRow): Promise<ContactRow> {
  if (base.id === mergee.id) return base;
  if (base.account_id !== mergee.account_id) throw notFound();
  return inTransaction(db, async (trx) => {
    // Both contacts before their conversations (lockContact), in id order.
    for (const id of [base.id, mergee.id].sort((a, b) => a - b)) await lockContact(trx, id);
    const t = now();
    await trx.updateTable('conversations').set({ contact_id: base.id, updated_at: t }).where('contact_id', '=', mergee.id).execute();
    await trx
      .updateTable('messages')
      .set({ sender_id: base.id })
      .where('sender_type', '=', 'Contact')
      .where('sender_id', '=', mergee.id)
      .execute();
    await trx.updateTable('contact_inboxes').set({ contact_id: base.id, updated_at: t }).where('contact_id', '=', mergee.id).execute();
    await trx
      .updateTable('notes')
      .set({ contact_id: base.id })
      .where('contact_id', '=', mergee.id)
      .where('account_id', '=', mergee.account_id)
      .execute();
    const baseLabels = await contactLabels(trx, base.id);
    const mergeeLabels = await contactLabels(trx, mergee.id);
    const extra = mergeeLabels.filter((n) => !baseLabels.includes(n));
    await trx.deleteFrom('taggings').where('taggable_type', '=', 'Contact').where('taggable_id', '=', mergee.id).execute();
    if (extra.length) {
      await trx
        .insertInto('taggings')
        .values(extra.map((name, i) => ({ account_id: base.account_id, taggable_type: 'Contact' as const, taggable_id: base.id, name, created_at: t + i })))
        .execute();
    }

    const pick = (c: ContactRow): JsonObject => {
      const f = fieldsOf(c);
      const out: JsonObject = {};
      for (const k of MERGEABLE) if (!isBlank(f[k])) out[k] = f[k];
      return out;
    };
    const merged = deepMerge(pick(mergee), pick(base));
    const lastActivity = Math.max(base.last_activity_at ?? 0, mergee.last_activity_at ?? 0) || null;

    await trx.deleteFrom('contacts').where('id', '=', mergee.id).execute();
    const errors = new RecordErrors();
    const fields = buildFields(fieldsOf(base), merged as ContactInput, false, errors);
    return trx
      .updateTable('contacts')
      .set({ ...rowValues(fields), last_activity_at: lastActivity, updated_at: now() })
      .where('id', '=', base.id)
      .returningAll()
      .executeTakeFirstOrThrow();
  });
}

/**
 * Locks a contact's row as its update would (SQLite: a plain read; its compiler leaves locks out).
 * A transaction that writes a contact and its conversations takes the contact first: a contact's
 * update locks its conversations too (the render-version trigger), so on PostgreSQL the opposite
 * order in another transaction would deadlock with it.
 */
export const lockContact = precompiled((db, id: number) => db.selectFrom('contacts').select('id').where('id', '=', id).forNoKeyUpdate());

/** For sorting and the conversations module: touch a contact's last activity. */
export async function touchContactActivity(db: Db, contactId: number, at: number = now()): Promise<void> {
  await db.updateTable('contacts').set({ last_activity_at: at }).where('id', '=', contactId).execute();
}

export type ContactInboxWithInbox = ContactInboxRow & { inbox: Row<'inboxes'> };
