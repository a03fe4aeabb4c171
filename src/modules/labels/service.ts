import type { Db } from '../../context.js';
import type { Row } from '../../db/types.js';
import { now } from '../../db/time.js';
import { RecordErrors, asTaken, notFound } from '../../lib/errors.js';
import { recordId } from '../../lib/params.js';

export type LabelRow = Row<'labels'>;

/** Chatwoot's UNICODE_CHARACTER_NUMBER_HYPHEN_UNDERSCORE: a letter or digit, then at least one more of letters, digits, _ or -. */
export const LABEL_TITLE_FORMAT = /^[\p{L}\p{N}]+[\p{L}\p{N}_-]+$/u;

export interface LabelInput {
  title?: string | null;
  description?: string | null;
  color?: string | null;
  show_on_sidebar?: boolean | null;
}

export const LABEL_FIELDS = ['title', 'description', 'color', 'show_on_sidebar'] as const;

/** Label's default scope orders by title. */
export function listLabels(db: Db, accountId: number): Promise<LabelRow[]> {
  return db.selectFrom('labels').selectAll().where('account_id', '=', accountId).orderBy('title').orderBy('id').execute();
}

export async function findLabel(db: Db, accountId: number, id: number | string): Promise<LabelRow> {
  const n = recordId(id);
  const row = await db.selectFrom('labels').selectAll().where('account_id', '=', accountId).where('id', '=', n).executeTakeFirst();
  if (!row) throw notFound();
  return row;
}

/** Every label title of the account, in title order (what the label pickers offer). */
export async function accountLabelTitles(db: Db, accountId: number): Promise<string[]> {
  const rows = await db.selectFrom('labels').select('title').where('account_id', '=', accountId).orderBy('title').execute();
  return rows.map((r) => r.title);
}

async function validate(db: Db, accountId: number, title: string | null, exceptId?: number): Promise<void> {
  const errors = new RecordErrors();
  if (title === null || title.trim() === '') {
    errors.add('title', 'must not be blank');
  } else {
    if (!LABEL_TITLE_FORMAT.test(title)) errors.add('title', 'is invalid');
    let q = db.selectFrom('labels').select('id').where('account_id', '=', accountId).where('title', '=', title);
    if (exceptId !== undefined) q = q.where('id', '!=', exceptId);
    if (await q.executeTakeFirst()) errors.add('title', 'has already been taken');
  }
  errors.throwIfAny();
}


/** Titles are stored lower-cased (Label's before_validation). */
const normalizeTitle = (title: string | null | undefined): string | null => (typeof title === 'string' ? title.toLowerCase() : null);

export async function createLabel(db: Db, accountId: number, input: LabelInput): Promise<LabelRow> {
  const title = normalizeTitle(input.title);
  await validate(db, accountId, title);
  const ts = now();
  try {
    return await db
      .insertInto('labels')
      .values({
        account_id: accountId,
        title: title!,
        description: input.description ?? null,
        // The column default applies when the client sends no colour; an explicit null is Rails' NOT NULL failure.
        ...(input.color !== undefined && input.color !== null ? { color: input.color } : {}),
        show_on_sidebar: input.show_on_sidebar === undefined || input.show_on_sidebar === null ? null : input.show_on_sidebar ? 1 : 0,
        created_at: ts,
        updated_at: ts,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  } catch (error) {
    throw asTaken(error, 'title');
  }
}

/**
 * Updates a label. A new title is carried over to every conversation and contact tagged with
 * the old one, like Chatwoot's Labels::UpdateJob, in the same transaction.
 */
export async function updateLabel(db: Db, label: LabelRow, input: LabelInput): Promise<LabelRow> {
  const title = input.title !== undefined ? normalizeTitle(input.title) : label.title;
  await validate(db, label.account_id, title, label.id);
  const changes: Partial<LabelRow> = { title: title!, updated_at: now() };
  if (input.description !== undefined) changes.description = input.description;
  if (input.color !== undefined && input.color !== null) changes.color = input.color;
  if (input.show_on_sidebar !== undefined) changes.show_on_sidebar = input.show_on_sidebar === null ? null : input.show_on_sidebar ? 1 : 0;
  let updated: LabelRow;
  try {
    updated = await db.updateTable('labels').set(changes).where('id', '=', label.id).returningAll().executeTakeFirstOrThrow();
  } catch (error) {
    throw asTaken(error, 'title');
  }
  if (updated.title !== label.title) await renameTaggings(db, label.account_id, label.title, updated.title);
  return updated;
}

/** Chatwoot keeps the tags when a label is deleted; only the definition goes. */
export async function deleteLabel(db: Db, label: LabelRow): Promise<void> {
  await db.deleteFrom('labels').where('id', '=', label.id).execute();
}

/**
 * Labels::UpdateService: every record tagged `oldTitle` is tagged `newTitle` instead (a record
 * that already carries both keeps one), and conversations' cached label list follows.
 */
async function renameTaggings(db: Db, accountId: number, oldTitle: string, newTitle: string): Promise<void> {
  const tagged = await db
    .selectFrom('taggings')
    .select(['taggable_type', 'taggable_id'])
    .where('account_id', '=', accountId)
    .where('name', '=', oldTitle)
    .execute();
  if (tagged.length === 0) return;
  for (const type of ['Conversation', 'Contact'] as const) {
    const ids = tagged.filter((t) => t.taggable_type === type).map((t) => t.taggable_id);
    for (let i = 0; i < ids.length; i += 500) {
      const batch = ids.slice(i, i + 500);
      // Drop the old tag where the new one is already there, then rename the rest.
      const alreadyNew = await db
        .selectFrom('taggings')
        .select('taggable_id')
        .where('taggable_type', '=', type)
        .where('taggable_id', 'in', batch)
        .where('name', '=', newTitle)
        .execute();
      const both = alreadyNew.map((r) => r.taggable_id);
      if (both.length > 0) {
        await db.deleteFrom('taggings').where('taggable_type', '=', type).where('taggable_id', 'in', both).where('name', '=', oldTitle).execute();
      }
      await db
        .updateTable('taggings')
        .set({ name: newTitle })
        .where('taggable_type', '=', type)
        .where('taggable_id', 'in', batch)
        .where('name', '=', oldTitle)
        .execute();
      if (type === 'Conversation') await refreshCachedLabelLists(db, batch);
    }
  }
}

/** conversations.cached_label_list is acts_as_taggable's "a, b" cache of the conversation's tags. */
async function refreshCachedLabelLists(db: Db, conversationIds: number[]): Promise<void> {
  const rows = await db
    .selectFrom('taggings')
    .select(['taggable_id', 'name'])
    .where('taggable_type', '=', 'Conversation')
    .where('taggable_id', 'in', conversationIds)
    .orderBy('created_at')
    .orderBy('name')
    .execute();
  const byConversation = new Map<number, string[]>(conversationIds.map((id) => [id, []]));
  for (const r of rows) byConversation.get(r.taggable_id)?.push(r.name);
  for (const [id, names] of byConversation) {
    await db.updateTable('conversations').set({ cached_label_list: names.join(', ') }).where('id', '=', id).execute();
  }
}
