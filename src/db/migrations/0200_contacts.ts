import { sql, type Kysely } from 'kysely';
import type { Engine } from '../../config.js';
import { columns, timestamps } from './helpers.js';

/**
 * Contacts: background import/export jobs (Chatwoot's data_imports and the account's
 * contacts_export attachment). The uploaded CSV and the produced CSV are kept in the row so
 * any Parley process sharing the database can serve or resume them.
 */
export async function up(db: Kysely<unknown>, engine: Engine): Promise<void> {
  const c = columns(engine);

  await timestamps(
    c.id(db.schema.createTable('contact_imports'))
      .addColumn('account_id', 'integer', (col) => col.notNull().references('accounts.id').onDelete('cascade'))
      .addColumn('user_id', 'integer', (col) => col.references('users.id').onDelete('set null'))
      .addColumn('status', 'integer', (col) => col.notNull().defaultTo(0))
      .addColumn('file_name', 'text')
      .addColumn('file_content', 'text', (col) => col.notNull())
      .addColumn('total_records', 'integer')
      .addColumn('processed_records', 'integer')
      .addColumn('failed_records', 'integer')
      .addColumn('processing_errors', c.jsonType, (col) => col.notNull().defaultTo(c.jsonArrayDefault)),
  ).execute();
  await db.schema.createIndex('contact_imports_account').on('contact_imports').column('account_id').execute();

  await timestamps(
    c.id(db.schema.createTable('contact_exports'))
      .addColumn('account_id', 'integer', (col) => col.notNull().references('accounts.id').onDelete('cascade'))
      .addColumn('user_id', 'integer', (col) => col.references('users.id').onDelete('set null'))
      .addColumn('status', 'integer', (col) => col.notNull().defaultTo(0))
      .addColumn('column_names', c.jsonType, (col) => col.notNull().defaultTo(c.jsonArrayDefault))
      .addColumn('params', c.jsonType, (col) => col.notNull().defaultTo(c.jsonObjectDefault))
      .addColumn('file_name', 'text')
      .addColumn('file_content', 'text')
      .addColumn('error', 'text')
      .addColumn('total_records', 'integer'),
  ).execute();
  await db.schema.createIndex('contact_exports_account').on('contact_exports').column('account_id').execute();

  await upSearch(db, engine);
}

/**
 * The text `GET /contacts/search` matches: name, email, phone number, identifier and company
 * name, lower-cased, one per line. Kept here so the index and the finder agree.
 */
export function contactSearchText(engine: Engine, alias: string): string {
  if (engine === 'postgres') {
    return `lower(coalesce(${alias}.name, '') || E'\\n' || coalesce(${alias}.email, '') || E'\\n' || coalesce(${alias}.phone_number, '') || E'\\n' || coalesce(${alias}.identifier, '') || E'\\n' || coalesce(${alias}.additional_attributes ->> 'company_name', ''))`;
  }
  return `lower(coalesce(${alias}.name, '') || char(10) || coalesce(${alias}.email, '') || char(10) || coalesce(${alias}.phone_number, '') || char(10) || coalesce(${alias}.identifier, '') || char(10) || coalesce(json_extract(${alias}.additional_attributes, '$.company_name'), ''))`;
}

/**
 * Indexes for 100 000+ contacts per account:
 * - the list's "resolved contacts" (email, phone or identifier present) count and pages read a
 *   partial index (Chatwoot's index_resolved_contact_account_id);
 * - substring search: SQLite keeps an FTS5 trigram table in step through triggers; PostgreSQL
 *   gets a pg_trgm GIN index on the search text when the extension can be installed (without it
 *   search still works, by a scan).
 */
export async function upSearch(db: Kysely<unknown>, engine: Engine): Promise<void> {
  await sql`CREATE INDEX contacts_resolved_account ON contacts (account_id, id) WHERE (email <> '' OR phone_number <> '' OR identifier <> '')`.execute(db);
  if (engine === 'sqlite') {
    await sql`CREATE VIRTUAL TABLE contacts_search USING fts5(body, tokenize = 'trigram')`.execute(db);
    const text = (alias: string) => sql.raw(contactSearchText('sqlite', alias));
    await sql`CREATE TRIGGER contacts_search_insert AFTER INSERT ON contacts BEGIN
      INSERT INTO contacts_search (rowid, body) VALUES (new.id, ${text('new')});
    END`.execute(db);
    await sql`CREATE TRIGGER contacts_search_update AFTER UPDATE OF name, email, phone_number, identifier, additional_attributes ON contacts BEGIN
      DELETE FROM contacts_search WHERE rowid = old.id;
      INSERT INTO contacts_search (rowid, body) VALUES (new.id, ${text('new')});
    END`.execute(db);
    await sql`CREATE TRIGGER contacts_search_delete AFTER DELETE ON contacts BEGIN
      DELETE FROM contacts_search WHERE rowid = old.id;
    END`.execute(db);
    await sql`INSERT INTO contacts_search (rowid, body) SELECT contacts.id, ${text('contacts')} FROM contacts`.execute(db);
    return;
  }
  const schema = await trigramSchema(db);
  if (schema === null) return;
  const opclass = sql.raw(`"${schema.replace(/"/g, '""')}".gin_trgm_ops`);
  await sql`CREATE INDEX contacts_search_trgm ON contacts USING gin ((${sql.raw(contactSearchText('postgres', 'contacts'))}) ${opclass})`.execute(db);
}

/** The schema holding pg_trgm, installing it (in public) when allowed; null when unavailable. */
async function trigramSchema(db: Kysely<unknown>): Promise<string | null> {
  const find = async () =>
    (await sql<{ schema: string }>`SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'`.execute(db)).rows[0]
      ?.schema ?? null;
  const existing = await find();
  if (existing) return existing;
  await sql`SAVEPOINT parley_trgm`.execute(db);
  try {
    await sql`CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public`.execute(db);
    await sql`RELEASE SAVEPOINT parley_trgm`.execute(db);
  } catch {
    await sql`ROLLBACK TO SAVEPOINT parley_trgm`.execute(db);
  }
  return find();
}
