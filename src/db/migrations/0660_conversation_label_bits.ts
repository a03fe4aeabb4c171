import { sql, type Kysely } from 'kysely';
import type { Engine } from '../../config.js';

/**
 * A conversation list filtered by label walks an activity index and asked, for each entry, whether
 * the conversation has one of the labels (a lookup in taggings): with a label on 7 % of an inbox's
 * conversations, page 1 made ~360 such lookups (240 µs of SQLite).
 *
 * - `label_names`: every tag name ever put on a conversation gets a row (never renumbered, never
 *   deleted), and with it a bit, `(id - 1) % 53` (53 bits keep every mask a safe JavaScript integer).
 * - `conversations.label_bits`: the OR of its labels' bits, kept by triggers on taggings whoever
 *   writes. Names can share a bit, so a set bit only says "maybe": the list asks
 *   `label_bits & mask <> 0` first, on the index entry itself, and the taggings lookup only for
 *   those. An entry whose bits miss cannot have the label; the answer is the one the lookup alone
 *   gives (conversations/finder.ts labelsCondition).
 * - The four activity indexes the list walks carry label_bits after their order (id spelled out
 *   before it, the list's tie-break). The entries already moved on every message; they grow by a
 *   byte or two.
 */
export const LABEL_BITS = 53;

/** SQL for the bit of the label_names row `alias` (its id). */
export const labelBitSql = (engine: Engine, alias: string) =>
  engine === 'postgres' ? `(1::bigint << ((${alias}.id - 1) % ${LABEL_BITS}))` : `(1 << ((${alias}.id - 1) % ${LABEL_BITS}))`;

/** SQL for the OR of the bits of the label_names rows `alias` (an aggregate; 0 for none). */
export const labelMaskSql = (engine: Engine, alias: string) =>
  engine === 'postgres' ? `coalesce(bit_or(${labelBitSql(engine, alias)}), 0)` : `coalesce(sum(distinct ${labelBitSql(engine, alias)}), 0)`;

export async function up(db: Kysely<unknown>, engine: Engine): Promise<void> {
  const pg = engine === 'postgres';
  await db.schema.alterTable('conversations').addColumn('label_bits', 'bigint', (col) => col.notNull().defaultTo(0)).execute();
  await db.schema
    .createTable('label_names')
    .addColumn('id', 'integer', (col) => (pg ? col.primaryKey().generatedByDefaultAsIdentity() : col.primaryKey()))
    .addColumn('name', 'text', (col) => col.notNull().unique())
    .execute();

  // The bits of conversation `id`'s current labels.
  const recompute = (id: string) => `
    update conversations set label_bits = (
      select ${labelMaskSql(engine, 'n')}
      from taggings t join label_names n on n.name = t.name
      where t.taggable_type = 'Conversation' and t.taggable_id = ${id}
    ) where id = ${id};`;
  // Only a new name takes an id (an insert that conflicts would still use one up on PostgreSQL,
  // and ids are bits: they should stay few and dense).
  const addName = (g: string) =>
    `insert into label_names (name) select ${g}.name where not exists (select 1 from label_names where name = ${g}.name) on conflict (name) do nothing;`;
  // A bit already set (another name of the bit, or rows written with their bits) writes nothing.
  const nameBit = (g: string) => `(select ${labelBitSql(engine, 'n')} from label_names n where n.name = ${g}.name)`;
  const setBit = (g: string) => `
    update conversations set label_bits = label_bits | ${nameBit(g)}
    where id = ${g}.taggable_id and (label_bits & ${nameBit(g)}) = 0;`;

  await sql.raw(`insert into label_names (name) select distinct name from taggings where taggable_type = 'Conversation' order by name`).execute(db);
  await sql
    .raw(
      `update conversations set label_bits = (
        select ${labelMaskSql(engine, 'n')}
        from taggings t join label_names n on n.name = t.name
        where t.taggable_type = 'Conversation' and t.taggable_id = conversations.id
      ) where exists (select 1 from taggings t where t.taggable_type = 'Conversation' and t.taggable_id = conversations.id)`,
    )
    .execute(db);

  if (pg) {
    await sql
      .raw(
        `create function conversation_label_bits() returns trigger language plpgsql set search_path from current as $$
         begin
           if tg_op = 'INSERT' then
             if new.taggable_type = 'Conversation' then ${addName('new')} ${setBit('new')} end if;
           elsif tg_op = 'DELETE' then
             if old.taggable_type = 'Conversation' then ${recompute('old.taggable_id')} end if;
           else
             if old.taggable_type = 'Conversation' then ${recompute('old.taggable_id')} end if;
             if new.taggable_type = 'Conversation' then ${addName('new')} ${recompute('new.taggable_id')} end if;
           end if;
           return null;
         end $$`,
      )
      .execute(db);
    await sql
      .raw(
        `create trigger conversation_label_bits after insert or delete or update of taggable_type, taggable_id, name on taggings
         for each row execute function conversation_label_bits()`,
      )
      .execute(db);
  } else {
    const trigger = (name: string, event: string, when: string, body: string) =>
      sql.raw(`create trigger ${name} after ${event} on taggings for each row when ${when} begin ${body} end`).execute(db);
    await trigger('conversation_label_bits_insert', 'insert', `new.taggable_type = 'Conversation'`, addName('new') + setBit('new'));
    await trigger('conversation_label_bits_delete', 'delete', `old.taggable_type = 'Conversation'`, recompute('old.taggable_id'));
    await trigger(
      'conversation_label_bits_update',
      'update of taggable_type, taggable_id, name',
      `old.taggable_type = 'Conversation' or new.taggable_type = 'Conversation'`,
      `${addName('new')} ${recompute('old.taggable_id')} ${recompute('new.taggable_id')}`,
    );
  }

  // The list's activity indexes, label_bits after their order (SQLite: id spelled out, as the
  // rowid it appends would come after label_bits; PostgreSQL: INCLUDE, outside the order).
  const indexes: [string, string[]][] = [
    ['conversations_account_activity', ['account_id', 'last_activity_at', 'id']],
    ['conversations_inbox_activity', ['account_id', 'inbox_id', 'last_activity_at', 'id']],
    ['conversations_inbox_status_activity', ['account_id', 'inbox_id', 'status', 'last_activity_at', 'id']],
    ['conversations_list_stamps', ['account_id', 'status', 'last_activity_at', 'id', 'render_version', 'team_id']],
  ];
  for (const [name, columns] of indexes) {
    await sql`drop index ${sql.ref(name)}`.execute(db);
    if (pg) {
      // PostgreSQL's list_stamps kept render_version and team_id as INCLUDE columns (0620).
      const keys = name === 'conversations_list_stamps' ? columns.slice(0, 4) : columns;
      const included = name === 'conversations_list_stamps' ? ['render_version', 'team_id', 'label_bits'] : ['label_bits'];
      await sql.raw(`create index ${name} on conversations (${keys.join(', ')}) include (${included.join(', ')})`).execute(db);
    } else {
      await sql.raw(`create index ${name} on conversations (${[...columns, 'label_bits'].join(', ')})`).execute(db);
    }
  }
  for (const table of ['conversations', 'label_names']) await sql`analyze ${sql.table(table)}`.execute(db);
}
