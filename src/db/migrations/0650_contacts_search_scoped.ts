import { sql, type Kysely } from 'kysely';
import type { Engine } from '../../config.js';

/**
 * Contact search at 100 000+ contacts per account (replaces 0200's search structure, and builds
 * it on databases migrated before 0200 had it).
 *
 * SQLite: an FTS5 trigram table holding ONLY resolved contacts (email, phone number or identifier
 * present: the only ones search lists), keyed by `account_id * 2^32 + contact id`. One account's
 * contacts are one contiguous rowid range, so the page (`ORDER BY rowid LIMIT 15`) and the
 * count (`count(*)` of the match) are answered from the full-text index alone, without reading
 * a row of `contacts`. Limits: contact ids below 2^32 and account ids below 2^31.
 *
 * PostgreSQL: a narrow side table (contact id, account id, search text) with the pg_trgm GIN
 * index, kept by a trigger, also resolved contacts only: the count re-checks the match against
 * short rows instead of whole contact rows.
 */
export const SEARCH_KEY_SHIFT = 4294967296; // 2^32

/** The lower-cased text search matches: name, email, phone number, identifier, company name. */
export function contactSearchBody(engine: Engine, alias: string): string {
  if (engine === 'postgres') {
    return `lower(coalesce(${alias}.name, '') || E'\\n' || coalesce(${alias}.email, '') || E'\\n' || coalesce(${alias}.phone_number, '') || E'\\n' || coalesce(${alias}.identifier, '') || E'\\n' || coalesce(${alias}.additional_attributes ->> 'company_name', ''))`;
  }
  return `lower(coalesce(${alias}.name, '') || char(10) || coalesce(${alias}.email, '') || char(10) || coalesce(${alias}.phone_number, '') || char(10) || coalesce(${alias}.identifier, '') || char(10) || coalesce(json_extract(${alias}.additional_attributes, '$.company_name'), ''))`;
}

/** Chatwoot's resolved_contacts condition on one row. */
const resolved = (alias: string) => `(${alias}.email <> '' OR ${alias}.phone_number <> '' OR ${alias}.identifier <> '')`;

export async function up(db: Kysely<unknown>, engine: Engine): Promise<void> {
  if (engine === 'sqlite') return upSqlite(db);
  return upPostgres(db);
}

async function upSqlite(db: Kysely<unknown>): Promise<void> {
  for (const trigger of ['contacts_search_insert', 'contacts_search_update', 'contacts_search_delete']) {
    await sql`DROP TRIGGER IF EXISTS ${sql.ref(trigger)}`.execute(db);
  }
  await sql`DROP TABLE IF EXISTS contacts_search`.execute(db);
  await sql`CREATE VIRTUAL TABLE contacts_search USING fts5(body, tokenize = 'trigram')`.execute(db);

  const key = (a: string) => sql.raw(`(${a}.account_id * ${SEARCH_KEY_SHIFT} + ${a}.id)`);
  const body = (a: string) => sql.raw(contactSearchBody('sqlite', a));
  const isResolved = (a: string) => sql.raw(resolved(a));
  await sql`CREATE TRIGGER contacts_search_insert AFTER INSERT ON contacts WHEN ${isResolved('new')} BEGIN
    INSERT INTO contacts_search (rowid, body) VALUES (${key('new')}, ${body('new')});
  END`.execute(db);
  // Only when what search sees changes: most updates (activity, custom attributes, avatar) skip it.
  await sql`CREATE TRIGGER contacts_search_update AFTER UPDATE OF account_id, name, email, phone_number, identifier, additional_attributes ON contacts
    WHEN old.account_id IS NOT new.account_id OR coalesce(${isResolved('old')}, 0) IS NOT coalesce(${isResolved('new')}, 0) OR ${body('old')} IS NOT ${body('new')}
  BEGIN
    DELETE FROM contacts_search WHERE rowid = ${key('old')};
    INSERT INTO contacts_search (rowid, body) SELECT ${key('new')}, ${body('new')} WHERE ${isResolved('new')};
  END`.execute(db);
  await sql`CREATE TRIGGER contacts_search_delete AFTER DELETE ON contacts WHEN ${isResolved('old')} BEGIN
    DELETE FROM contacts_search WHERE rowid = ${key('old')};
  END`.execute(db);
  await sql`INSERT INTO contacts_search (rowid, body) SELECT ${key('contacts')}, ${body('contacts')} FROM contacts WHERE ${isResolved('contacts')}`.execute(db);
  await sql`INSERT INTO contacts_search (contacts_search) VALUES ('optimize')`.execute(db);
}

async function upPostgres(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX IF EXISTS contacts_search_trgm`.execute(db);
  await sql`CREATE TABLE contacts_search (contact_id integer PRIMARY KEY, account_id integer NOT NULL, body text NOT NULL)`.execute(db);
  await sql`CREATE INDEX contacts_search_account ON contacts_search (account_id, contact_id)`.execute(db);
  const body = (a: string) => sql.raw(contactSearchBody('postgres', a));
  const isResolved = (a: string) => sql.raw(resolved(a));
  await sql`CREATE OR REPLACE FUNCTION parley_contacts_search_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    DELETE FROM contacts_search WHERE contact_id = OLD.id;
    RETURN OLD;
  END IF;
  IF TG_OP = 'UPDATE' THEN
    IF OLD.id = NEW.id AND OLD.account_id = NEW.account_id AND coalesce(${isResolved('OLD')}, false) = coalesce(${isResolved('NEW')}, false)
       AND ${body('OLD')} = ${body('NEW')} THEN
      RETURN NEW;
    END IF;
    DELETE FROM contacts_search WHERE contact_id = OLD.id;
  END IF;
  IF ${isResolved('NEW')} THEN
    INSERT INTO contacts_search (contact_id, account_id, body) VALUES (NEW.id, NEW.account_id, ${body('NEW')});
  END IF;
  RETURN NEW;
END
$$`.execute(db);
  await sql`CREATE TRIGGER contacts_search_sync AFTER INSERT OR DELETE OR UPDATE OF id, account_id, name, email, phone_number, identifier, additional_attributes ON contacts
    FOR EACH ROW EXECUTE FUNCTION parley_contacts_search_sync()`.execute(db);
  await sql`INSERT INTO contacts_search (contact_id, account_id, body) SELECT contacts.id, contacts.account_id, ${body('contacts')} FROM contacts WHERE ${isResolved('contacts')}`.execute(db);
  const schema = (await sql<{ schema: string }>`SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'`.execute(db)).rows[0]?.schema;
  // Without pg_trgm (0200 installs it when allowed) search still works, by scanning the narrow table.
  if (schema) {
    const opclass = sql.raw(`"${schema.replace(/"/g, '""')}".gin_trgm_ops`);
    await sql`CREATE INDEX contacts_search_body_trgm ON contacts_search USING gin (body ${opclass})`.execute(db);
  }
  await sql`ANALYZE contacts_search`.execute(db);
}
