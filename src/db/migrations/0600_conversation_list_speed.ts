import { sql, type Kysely } from 'kysely';
import type { Engine } from '../../config.js';
import { columns } from './helpers.js';

/**
 * The conversation list at scale.
 *
 * - `conversation_counts`: how many conversations there are per (account, status, inbox, team,
 *   assignee), kept by triggers in the same transaction as every insert, delete and change of
 *   those columns, whoever writes the row. The list's four counts and /conversations/meta read a
 *   few hundred of these rows instead of counting tens of thousands of conversations. Missing
 *   team / assignee are stored as 0 (ids start at 1) so the key can be a primary key.
 *   `conversation_label_counts` does the same per label (kept by triggers on taggings too), for
 *   the labels filter with one label.
 * - Indexes that lead with what the list filters on and end with what it sorts by, so a page's
 *   ids (even a deep one) come from an index alone: per inbox by activity (status all), per
 *   inbox and status by activity; per inbox and assignee for the counts the counters cannot
 *   answer (several labels, search).
 */
export async function up(db: Kysely<unknown>, engine: Engine): Promise<void> {
  columns(engine);
  const pg = engine === 'postgres';

  await db.schema
    .createTable('conversation_counts')
    .addColumn('account_id', 'integer', (col) => col.notNull())
    .addColumn('status', 'integer', (col) => col.notNull())
    .addColumn('inbox_id', 'integer', (col) => col.notNull())
    .addColumn('team_id', 'integer', (col) => col.notNull())
    .addColumn('assignee_id', 'integer', (col) => col.notNull())
    .addColumn('n', 'integer', (col) => col.notNull())
    .addPrimaryKeyConstraint('conversation_counts_pk', ['account_id', 'status', 'inbox_id', 'team_id', 'assignee_id'])
    .modifyEnd(pg ? sql`` : sql`without rowid`)
    .execute();

  await sql`
    insert into conversation_counts (account_id, status, inbox_id, team_id, assignee_id, n)
    select account_id, status, inbox_id, coalesce(team_id, 0), coalesce(assignee_id, 0), count(*)
    from conversations
    group by account_id, status, inbox_id, coalesce(team_id, 0), coalesce(assignee_id, 0)
  `.execute(db);

  // The same per label (a conversation counts once under each of its labels): the labels filter
  // with one label is answered from here too.
  await db.schema
    .createTable('conversation_label_counts')
    .addColumn('account_id', 'integer', (col) => col.notNull())
    .addColumn('label', 'text', (col) => col.notNull())
    .addColumn('status', 'integer', (col) => col.notNull())
    .addColumn('inbox_id', 'integer', (col) => col.notNull())
    .addColumn('team_id', 'integer', (col) => col.notNull())
    .addColumn('assignee_id', 'integer', (col) => col.notNull())
    .addColumn('n', 'integer', (col) => col.notNull())
    .addPrimaryKeyConstraint('conversation_label_counts_pk', ['account_id', 'label', 'status', 'inbox_id', 'team_id', 'assignee_id'])
    .modifyEnd(pg ? sql`` : sql`without rowid`)
    .execute();
  await sql`
    insert into conversation_label_counts (account_id, label, status, inbox_id, team_id, assignee_id, n)
    select c.account_id, t.name, c.status, c.inbox_id, coalesce(c.team_id, 0), coalesce(c.assignee_id, 0), count(*)
    from taggings t join conversations c on c.id = t.taggable_id
    where t.taggable_type = 'Conversation'
    group by c.account_id, t.name, c.status, c.inbox_id, coalesce(c.team_id, 0), coalesce(c.assignee_id, 0)
  `.execute(db);

  // Statements shared by both engines' triggers. `r` is the conversation row (old/new/c),
  // `labels` where its label names come from.
  const key = (r: string) => `${r}.account_id, ${r}.status, ${r}.inbox_id, coalesce(${r}.team_id, 0), coalesce(${r}.assignee_id, 0)`;
  const match = (r: string) =>
    `account_id = ${r}.account_id and status = ${r}.status and inbox_id = ${r}.inbox_id and team_id = coalesce(${r}.team_id, 0) and assignee_id = coalesce(${r}.assignee_id, 0)`;
  const inc = (r: string) => `
    insert into conversation_counts as cc (account_id, status, inbox_id, team_id, assignee_id, n) values (${key(r)}, 1)
    on conflict (account_id, status, inbox_id, team_id, assignee_id) do update set n = cc.n + 1;`;
  const dec = (r: string) => `update conversation_counts set n = n - 1 where ${match(r)};`;
  // Every label of conversation `r` (the taggings of its id).
  const incLabels = (r: string) => `
    insert into conversation_label_counts as lc (account_id, label, status, inbox_id, team_id, assignee_id, n)
    select ${r}.account_id, t.name, ${r}.status, ${r}.inbox_id, coalesce(${r}.team_id, 0), coalesce(${r}.assignee_id, 0), 1
    from taggings t where t.taggable_type = 'Conversation' and t.taggable_id = ${r}.id
    on conflict (account_id, label, status, inbox_id, team_id, assignee_id) do update set n = lc.n + 1;`;
  const decLabels = (r: string) => `
    update conversation_label_counts set n = n - 1 where ${match(r)}
    and label in (select t.name from taggings t where t.taggable_type = 'Conversation' and t.taggable_id = ${r}.id);`;
  // One tagging `g` (old/new) of whatever conversation it points to.
  const incTagging = (g: string) => `
    insert into conversation_label_counts as lc (account_id, label, status, inbox_id, team_id, assignee_id, n)
    select c.account_id, ${g}.name, c.status, c.inbox_id, coalesce(c.team_id, 0), coalesce(c.assignee_id, 0), 1
    from conversations c where c.id = ${g}.taggable_id and ${g}.taggable_type = 'Conversation'
    on conflict (account_id, label, status, inbox_id, team_id, assignee_id) do update set n = lc.n + 1;`;
  const decTagging = (g: string) => `
    update conversation_label_counts set n = n - 1
    where label = ${g}.name and ${g}.taggable_type = 'Conversation'
      and (account_id, status, inbox_id, team_id, assignee_id) in (select ${key('c')} from conversations c where c.id = ${g}.taggable_id);`;
  const keyChanged = `old.account_id is distinct from new.account_id or old.status is distinct from new.status
    or old.inbox_id is distinct from new.inbox_id or old.team_id is distinct from new.team_id or old.assignee_id is distinct from new.assignee_id`;

  if (pg) {
    // Plans are made per call (force_custom_plan): a plan cached while a table was small (a bulk
    // load in one transaction, before any ANALYZE) would keep scanning it whole as it grows.
    // A key change locks its two counter rows in key order, so two such updates cannot deadlock.
    await sql.raw(`
      create function conversation_counts_track() returns trigger language plpgsql
      set search_path from current set plan_cache_mode = force_custom_plan as $$
      begin
        if tg_op = 'INSERT' then
          ${inc('new')} ${incLabels('new')}
        elsif tg_op = 'DELETE' then
          ${dec('old')} ${decLabels('old')}
        elsif ${keyChanged} then
          if row(${key('old')}) < row(${key('new')}) then
            ${dec('old')} ${inc('new')}
          else
            ${inc('new')} ${dec('old')}
          end if;
          ${decLabels('old')} ${incLabels('new')}
        end if;
        return null;
      end
      $$`).execute(db);
    await sql`
      create trigger conversation_counts_track
      after insert or delete or update of account_id, status, inbox_id, team_id, assignee_id on conversations
      for each row execute function conversation_counts_track()
    `.execute(db);
    await sql.raw(`
      create function conversation_label_counts_track() returns trigger language plpgsql
      set search_path from current set plan_cache_mode = force_custom_plan as $$
      begin
        if tg_op in ('UPDATE', 'DELETE') then ${decTagging('old')} end if;
        if tg_op in ('UPDATE', 'INSERT') then ${incTagging('new')} end if;
        return null;
      end
      $$`).execute(db);
    await sql`
      create trigger conversation_label_counts_track
      after insert or delete or update of taggable_type, taggable_id, name on taggings
      for each row execute function conversation_label_counts_track()
    `.execute(db);
  } else {
    const trigger = (name: string, event: string, body: string, when = '') =>
      sql.raw(`create trigger ${name} after ${event} ${when ? `when ${when}` : ''} begin ${body} end`).execute(db);
    await trigger('conversation_counts_insert', 'insert on conversations for each row', inc('new') + incLabels('new'));
    await trigger('conversation_counts_delete', 'delete on conversations for each row', dec('old') + decLabels('old'));
    await trigger(
      'conversation_counts_update',
      'update of account_id, status, inbox_id, team_id, assignee_id on conversations for each row',
      dec('old') + inc('new') + decLabels('old') + incLabels('new'),
      keyChanged.replaceAll('is distinct from', 'is not'),
    );
    await trigger('conversation_label_counts_insert', 'insert on taggings for each row', incTagging('new'));
    await trigger('conversation_label_counts_delete', 'delete on taggings for each row', decTagging('old'));
    await trigger('conversation_label_counts_update', 'update of taggable_type, taggable_id, name on taggings for each row', decTagging('old') + incTagging('new'));
  }

  // SQLite appends the rowid (= id) to every index, which is the list's tie-break; PostgreSQL needs it spelled out.
  const tail = pg ? ['id'] : [];
  await db.schema
    .createIndex('conversations_inbox_activity')
    .on('conversations')
    .columns(['account_id', 'inbox_id', 'last_activity_at', ...tail])
    .execute();
  await db.schema
    .createIndex('conversations_inbox_status_activity')
    .on('conversations')
    .columns(['account_id', 'inbox_id', 'status', 'last_activity_at', ...tail])
    .execute();
  // The counts of a filtered list that the counters cannot answer (labels, search): per inbox, covering.
  await db.schema.createIndex('conversations_inbox_assignee').on('conversations').columns(['account_id', 'inbox_id', 'assignee_id', 'status']).execute();
  // taggings' primary key (taggable_type, taggable_id, name) already serves every lookup of this one.
  await db.schema.dropIndex('taggings_taggable').execute();

  // Fresh statistics so the planner sees the new indexes (SQLite plans badly without them).
  for (const table of ['conversations', 'taggings', 'conversation_counts', 'conversation_label_counts']) await sql`analyze ${sql.table(table)}`.execute(db);
}
