import type { Kysely } from 'kysely';
import type { Engine } from '../../config.js';
import { columns } from './helpers.js';

/**
 * Messages and attachments: download URLs carry an attachment's storage key, so files are
 * found by it; the conversation's attachment list pages by message.
 */
export async function up(db: Kysely<unknown>, engine: Engine): Promise<void> {
  columns(engine);
  await db.schema.createIndex('attachments_file_key').on('attachments').column('file_key').unique().execute();
  await db.schema.createIndex('attachments_account').on('attachments').columns(['account_id', 'id']).execute();
}
