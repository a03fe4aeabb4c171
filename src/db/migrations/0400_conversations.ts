import type { Kysely } from 'kysely';
import type { Engine } from '../../config.js';
import { columns } from './helpers.js';

/**
 * Conversations: draft messages (Chatwoot keeps them in Redis), the round-robin queue of
 * automatic assignment (Redis list in Chatwoot; rows here so several processes share it),
 * and indexes for the list's counts and sorts.
 */
export async function up(db: Kysely<unknown>, engine: Engine): Promise<void> {
  columns(engine);
  await db.schema
    .createTable('conversation_drafts')
    .addColumn('conversation_id', 'integer', (col) => col.primaryKey().references('conversations.id').onDelete('cascade'))
    .addColumn('account_id', 'integer', (col) => col.notNull())
    .addColumn('message', 'text', (col) => col.notNull())
    .addColumn('updated_at', 'bigint', (col) => col.notNull())
    .execute();

  // One row per inbox member: the agent assigned longest ago (lowest position) goes next.
  await db.schema
    .createTable('inbox_round_robin')
    .addColumn('inbox_id', 'integer', (col) => col.notNull().references('inboxes.id').onDelete('cascade'))
    .addColumn('user_id', 'integer', (col) => col.notNull().references('users.id').onDelete('cascade'))
    .addColumn('position', 'bigint', (col) => col.notNull())
    .addPrimaryKeyConstraint('inbox_round_robin_pk', ['inbox_id', 'user_id'])
    .execute();

  // The list's counts (mine / unassigned / all for one status) read this index alone.
  await db.schema
    .createIndex('conversations_counts')
    .on('conversations')
    .columns(['account_id', 'status', 'assignee_id', 'inbox_id'])
    .execute();
  // status=all sorted by activity, and the created_at sorts.
  await db.schema.createIndex('conversations_account_activity').on('conversations').columns(['account_id', 'last_activity_at']).execute();
  await db.schema.createIndex('conversations_status_created').on('conversations').columns(['account_id', 'status', 'created_at']).execute();
  await db.schema.createIndex('taggings_taggable').on('taggings').columns(['taggable_type', 'taggable_id']).execute();
  await db.schema.createIndex('conversation_participants_user').on('conversation_participants').column('user_id').execute();
}
