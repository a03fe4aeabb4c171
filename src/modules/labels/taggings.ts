import type { Db } from '../../context.js';

/**
 * acts_as_taggable_on's labels, as contacts and conversations share them: LabelConcern's
 * `params.permit(labels: [])`, the tag-list parser, and the taggings a new set writes (the body's
 * schema is schemas.ts LabelsBody).
 */

/** The values Rails' strong parameters let through in an array (its permitted scalars, as JSON has them). */
const isPermittedScalar = (v: unknown): boolean => v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/**
 * LabelConcern#create's `params.permit(labels: [])`: only an array of scalars passes. A string, an
 * object, or an array holding an object or array is dropped whole, and update_labels(nil) then
 * clears the set, so these give no names at all.
 */
export function permittedLabels(raw: unknown): string[] {
  return Array.isArray(raw) && raw.every(isPermittedScalar) ? parseLabelList(raw) : [];
}

/**
 * acts_as_taggable's parser, for callers that add labels of their own (automation, macros): a
 * single value or a list, each element possibly holding several comma-separated names.
 */
export function normalizeLabels(input: unknown): string[] {
  return parseLabelList(Array.isArray(input) ? input : [input]);
}

/** The names in `items`, trimmed, in order, without blanks or repeats; objects and empty values hold none. */
function parseLabelList(items: unknown[]): string[] {
  const out: string[] = [];
  for (const item of items) {
    if (item === null || item === undefined || typeof item === 'object') continue;
    for (const part of String(item).split(',')) {
      const name = part.trim();
      if (name !== '' && !out.includes(name)) out.push(name);
    }
  }
  return out;
}

export interface Taggable {
  accountId: number;
  type: 'Contact' | 'Conversation';
  id: number;
}

/**
 * Moves a taggable's taggings from the names it has to the names it should have, in the caller's
 * transaction: the dropped names are deleted and the new ones inserted, stamped `at` onwards in
 * their order (contacts list their labels by it). Returns what moved.
 */
export async function replaceTaggings(
  trx: Db,
  taggable: Taggable,
  current: readonly string[],
  wanted: readonly string[],
  at: number,
): Promise<{ added: string[]; removed: string[] }> {
  const removed = current.filter((n) => !wanted.includes(n));
  const added = wanted.filter((n) => !current.includes(n));
  if (removed.length) {
    await trx
      .deleteFrom('taggings')
      .where('taggable_type', '=', taggable.type)
      .where('taggable_id', '=', taggable.id)
      .where('name', 'in', removed)
      .execute();
  }
  if (added.length) {
    await trx
      .insertInto('taggings')
      .values(added.map((name, i) => ({ account_id: taggable.accountId, taggable_type: taggable.type, taggable_id: taggable.id, name, created_at: at + i })))
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
  return { added, removed };
}
