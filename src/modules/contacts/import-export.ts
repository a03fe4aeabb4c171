import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { Type } from '@sinclair/typebox';
import { currentAccount, currentUser, requireAdministrator } from '../../auth/guard.js';
import type { AppContext } from '../../context.js';
import { parseJson, toJson, type JsonObject } from '../../db/json.js';
import { now, unixSeconds } from '../../db/time.js';
import type { Row } from '../../db/types.js';
import { HttpError, notFound, unprocessable } from '../../lib/errors.js';
import { recordId } from '../../lib/params.js';
import { buildFilterExpression } from '../filters/engine.js';
import { CONTACT_FILTER_CATALOGUE } from './filter-catalogue.js';
import { ExportBody, ExportParams, ImportParams } from './schemas.js';
import { createContact, updateContact, type ContactInput, type ContactRow } from './service.js';
import { sql, type SqlBool } from 'kysely';

export type ContactImportRow = Row<'contact_imports'>;
export type ContactExportRow = Row<'contact_exports'>;

const STATUS = ['pending', 'processing', 'completed', 'failed'] as const;

/**
 * Background work started by this process, by job key. Tests (and a graceful shutdown) await
 * it with waitForContactJobs(); the rows' status is what clients poll.
 */
const running = new Map<string, Promise<void>>();

function runInBackground(key: string, ctx: AppContext, job: () => Promise<void>): void {
  const p = new Promise<void>((resolve) => setImmediate(resolve))
    .then(job)
    .catch((error: unknown) => ctx.log.error({ err: error, job: key }, 'contact job failed'))
    .finally(() => running.delete(key));
  running.set(key, p);
}

/** Resolves when every contact import/export started in this process has finished. */
export async function waitForContactJobs(): Promise<void> {
  while (running.size > 0) await Promise.all([...running.values()]);
}

// ---- import (DataImportJob + DataImport::ContactManager) ----

interface ImportError {
  line: number;
  errors: string;
}

function presentImport(row: ContactImportRow): Record<string, unknown> {
  return {
    id: row.id,
    data_type: 'contacts',
    status: STATUS[row.status] ?? 'pending',
    file_name: row.file_name,
    total_records: row.total_records,
    processed_records: row.processed_records,
    failed_records: row.failed_records,
    processing_errors: parseJson<ImportError[]>(row.processing_errors, []),
    created_at: unixSeconds(row.created_at),
    updated_at: unixSeconds(row.updated_at),
  };
}

const blank = (v: unknown): boolean => v === undefined || v === null || String(v).trim() === '';
const formatPhone = (p: string): string => (p.startsWith('+') ? p : `+${p}`);

async function findExisting(ctx: AppContext, accountId: number, row: Record<string, string>): Promise<ContactRow | undefined> {
  const q = () => ctx.db.selectFrom('contacts').selectAll().where('account_id', '=', accountId);
  if (!blank(row.identifier)) {
    const found = await q().where('identifier', '=', row.identifier.trim()).executeTakeFirst();
    if (found) return found;
  }
  if (!blank(row.email)) {
    const found = await q().where('email', '=', row.email.trim().toLowerCase()).executeTakeFirst();
    if (found) return found;
  }
  if (!blank(row.phone_number)) {
    const found = await q().where('phone_number', '=', formatPhone(row.phone_number.trim())).executeTakeFirst();
    if (found) return found;
  }
  return undefined;
}

/** One CSV row → contact fields, as DataImport::ContactManager builds them. */
function rowInput(row: Record<string, string>, existing: ContactRow | undefined): ContactInput {
  const input: ContactInput = {};
  if (!blank(row.name)) input.name = row.name;
  if (!blank(row.email)) input.email = row.email;
  if (!blank(row.phone_number)) input.phone_number = formatPhone(row.phone_number.trim());
  if (!blank(row.identifier)) input.identifier = row.identifier;
  const additional: JsonObject = {};
  if (!blank(row.company)) additional.company = row.company;
  if (!blank(row.city)) additional.city = row.city;
  if (Object.keys(additional).length) input.additional_attributes = additional;
  const custom: JsonObject = {};
  for (const [k, v] of Object.entries(row)) {
    if (['identifier', 'email', 'name', 'phone_number'].includes(k) || k.trim() === '' || blank(v)) continue;
    custom[k] = v;
  }
  if (Object.keys(custom).length || !existing) input.custom_attributes = custom;
  return input;
}

const errorText = (error: unknown): string => {
  if (error instanceof HttpError) {
    const b = error.body;
    return String(b.message ?? b.error ?? 'is invalid');
  }
  throw error;
};

/** Processes a stored import: good rows are written (one transaction each), bad rows are reported by CSV line. */
export async function processContactImport(ctx: AppContext, importId: number): Promise<void> {
  const job = await ctx.db.selectFrom('contact_imports').selectAll().where('id', '=', importId).executeTakeFirst();
  if (!job || job.status !== 0) return;
  await ctx.db.updateTable('contact_imports').set({ status: 1, updated_at: now() }).where('id', '=', importId).execute();
  let records: { record: Record<string, string>; info: { lines: number } }[];
  try {
    records = parse(job.file_content, {
      columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
      bom: true,
      skip_empty_lines: true,
      relax_column_count: true,
      info: true,
    }) as { record: Record<string, string>; info: { lines: number } }[];
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await ctx.db
      .updateTable('contact_imports')
      .set({ status: 3, processing_errors: toJson([{ line: 0, errors: `Malformed CSV: ${message}` }]), updated_at: now() })
      .where('id', '=', importId)
      .execute();
    return;
  }
  const errors: ImportError[] = [];
  let processed = 0;
  for (const { record, info } of records) {
    try {
      await ctx.db.transaction().execute(async (trx) => {
        const existing = await findExisting({ ...ctx, db: trx }, job.account_id, record);
        const input = rowInput(record, existing);
        if (existing) await updateContact(trx, existing, input);
        else await createContact(trx, job.account_id, input);
      });
      processed += 1;
    } catch (error) {
      errors.push({ line: info.lines, errors: errorText(error) });
    }
  }
  await ctx.db
    .updateTable('contact_imports')
    .set({
      status: 2,
      total_records: records.length,
      processed_records: processed,
      failed_records: errors.length,
      processing_errors: toJson(errors),
      updated_at: now(),
    })
    .where('id', '=', importId)
    .execute();
}

// ---- export (Account::ContactsExportJob) ----

const EXPORTABLE_COLUMNS = [
  'id',
  'name',
  'middle_name',
  'last_name',
  'email',
  'phone_number',
  'identifier',
  'avatar_url',
  'additional_attributes',
  'custom_attributes',
  'last_activity_at',
  'contact_type',
  'location',
  'country_code',
  'blocked',
  'company_id',
  'account_id',
  'created_at',
  'updated_at',
] as const;
const DEFAULT_COLUMNS = ['id', 'name', 'email', 'phone_number'];
const CONTACT_TYPES = ['visitor', 'lead', 'customer'];

function downloadUrl(ctx: AppContext, row: ContactExportRow): string {
  return `${ctx.config.frontendUrl}/api/v1/accounts/${row.account_id}/contacts/exports/${row.id}/download`;
}

function presentExport(ctx: AppContext, row: ContactExportRow): Record<string, unknown> {
  return {
    id: row.id,
    status: STATUS[row.status] ?? 'pending',
    file_name: row.file_name,
    total_records: row.total_records,
    column_names: parseJson<string[]>(row.column_names, []),
    download_url: row.status === 2 ? downloadUrl(ctx, row) : null,
    error: row.error,
    created_at: unixSeconds(row.created_at),
    updated_at: unixSeconds(row.updated_at),
  };
}

function cell(contact: ContactRow, column: string): string {
  const value = (contact as unknown as Record<string, unknown>)[column];
  if (value === null || value === undefined) return '';
  switch (column) {
    case 'additional_attributes':
    case 'custom_attributes':
      return JSON.stringify(parseJson<JsonObject>(value, {}));
    case 'blocked':
      return value === 1 ? 'true' : 'false';
    case 'contact_type':
      return CONTACT_TYPES[Number(value)] ?? 'visitor';
    case 'last_activity_at':
    case 'created_at':
    case 'updated_at':
      return new Date(Number(value)).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
    default:
      return String(value);
  }
}

export async function processContactExport(ctx: AppContext, exportId: number): Promise<void> {
  const job = await ctx.db.selectFrom('contact_exports').selectAll().where('id', '=', exportId).executeTakeFirst();
  if (!job || job.status !== 0) return;
  await ctx.db.updateTable('contact_exports').set({ status: 1, updated_at: now() }).where('id', '=', exportId).execute();
  try {
    const account = await ctx.db.selectFrom('accounts').select(['id', 'name']).where('id', '=', job.account_id).executeTakeFirstOrThrow();
    const headers = parseJson<string[]>(job.column_names, DEFAULT_COLUMNS);
    const params = parseJson<JsonObject>(job.params, {});
    let q = ctx.db
      .selectFrom('contacts')
      .selectAll()
      .where('account_id', '=', job.account_id)
      .where(sql<SqlBool>`(contacts.email <> '' OR contacts.phone_number <> '' OR contacts.identifier <> '')`);
    if (Array.isArray(params.payload) && params.payload.length > 0) {
      q = q.where(
        await buildFilterExpression({
          db: ctx.db,
          engine: ctx.engine,
          accountId: job.account_id,
          table: 'contacts',
          catalogue: CONTACT_FILTER_CATALOGUE,
          payload: params.payload,
        }),
      );
    } else if (typeof params.label === 'string' && params.label !== '') {
      q = q.where(
        sql<SqlBool>`EXISTS (SELECT 1 FROM taggings WHERE taggings.taggable_type = 'Contact' AND taggings.taggable_id = contacts.id AND LOWER(taggings.name) = ${params.label.toLowerCase()})`,
      );
    }
    const contacts = await q.orderBy('id').execute();
    const csv = stringify([headers, ...contacts.map((c) => headers.map((h) => cell(c, h)))]);
    await ctx.db
      .updateTable('contact_exports')
      .set({ status: 2, file_content: csv, file_name: `${account.name}_${account.id}_contacts.csv`, total_records: contacts.length, updated_at: now() })
      .where('id', '=', exportId)
      .execute();
  } catch (error) {
    const message = error instanceof HttpError ? String(error.body.error ?? error.body.message) : 'Export failed';
    if (!(error instanceof HttpError)) ctx.log.error({ err: error }, 'contact export failed');
    await ctx.db.updateTable('contact_exports').set({ status: 3, error: message, updated_at: now() }).where('id', '=', exportId).execute();
  }
}

/**
 * POST /contacts/import (multipart, field import_file) and POST /contacts/export, plus Parley's
 * status and download routes (Chatwoot e-mails the result instead). Administrators only
 * (ContactPolicy#import?/export?). Multipart parsing is registered in this scope only.
 */
export const importExportRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const ctx = app.ctx;
  await app.register(multipart, { limits: { fileSize: ctx.config.maxUploadBytes, files: 1, fields: 20 } });

  app.post('/contacts/import', { schema: { consumes: ['multipart/form-data'] } }, async (request) => {
    const account = currentAccount(request);
    requireAdministrator(request);
    if (!request.isMultipart()) throw unprocessable('File is blank');
    let content: string | undefined;
    let fileName: string | null = null;
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        const buffer = await part.toBuffer();
        if (part.fieldname === 'import_file') {
          content = buffer.toString('utf8');
          fileName = part.filename || null;
        }
      } else if (part.fieldname === 'import_file' && typeof part.value === 'string') {
        content = part.value;
      }
    }
    if (content === undefined || content.trim() === '') throw unprocessable('File is blank');
    const t = now();
    const row = await ctx.db
      .insertInto('contact_imports')
      .values({ account_id: account.id, user_id: currentUser(request).id, file_name: fileName, file_content: content, created_at: t, updated_at: t })
      .returningAll()
      .executeTakeFirstOrThrow();
    runInBackground(`import:${row.id}`, ctx, () => processContactImport(ctx, row.id));
    return presentImport(row);
  });

  app.get('/contacts/imports/:import_id', { schema: { params: ImportParams } }, async (request) => {
    const account = currentAccount(request);
    requireAdministrator(request);
    const id = recordId(request.params.import_id);
    const row = await ctx.db.selectFrom('contact_imports').selectAll().where('id', '=', id).where('account_id', '=', account.id).executeTakeFirst();
    if (!row) throw notFound();
    return presentImport(row);
  });

  app.post('/contacts/export', { schema: { body: Type.Optional(ExportBody) } }, async (request) => {
    const account = currentAccount(request);
    requireAdministrator(request);
    const body = request.body ?? {};
    const rawColumns = body.column_names;
    const asked = (Array.isArray(rawColumns) ? rawColumns : typeof rawColumns === 'string' && rawColumns !== '' ? rawColumns.split(',') : [])
      .map((c) => String(c).trim())
      .filter((c) => c !== '');
    const columnsWanted = (asked.length ? asked : DEFAULT_COLUMNS).filter((c) => (EXPORTABLE_COLUMNS as readonly string[]).includes(c));
    const params: JsonObject = {};
    if (body.payload !== undefined && body.payload !== null) {
      // Reject a bad filter now rather than failing in the background.
      await buildFilterExpression({ db: ctx.db, engine: ctx.engine, accountId: account.id, table: 'contacts', catalogue: CONTACT_FILTER_CATALOGUE, payload: body.payload });
      params.payload = body.payload;
    }
    if (body.label) params.label = body.label;
    const t = now();
    const row = await ctx.db
      .insertInto('contact_exports')
      .values({ account_id: account.id, user_id: currentUser(request).id, column_names: toJson(columnsWanted), params: toJson(params), created_at: t, updated_at: t })
      .returningAll()
      .executeTakeFirstOrThrow();
    runInBackground(`export:${row.id}`, ctx, () => processContactExport(ctx, row.id));
    return { message: 'We will notify you once contacts export file is ready to view.', ...presentExport(ctx, row), status_url: `${ctx.config.frontendUrl}/api/v1/accounts/${account.id}/contacts/exports/${row.id}` };
  });

  const findExport = async (accountId: number, raw: string): Promise<ContactExportRow> => {
    const id = recordId(raw);
    const row = await ctx.db.selectFrom('contact_exports').selectAll().where('id', '=', id).where('account_id', '=', accountId).executeTakeFirst();
    if (!row) throw notFound();
    return row;
  };

  app.get('/contacts/exports/:export_id', { schema: { params: ExportParams } }, async (request) => {
    const account = currentAccount(request);
    requireAdministrator(request);
    return presentExport(ctx, await findExport(account.id, request.params.export_id));
  });

  app.get('/contacts/exports/:export_id/download', { schema: { params: ExportParams } }, async (request, reply) => {
    const account = currentAccount(request);
    requireAdministrator(request);
    const row = await findExport(account.id, request.params.export_id);
    if (row.status !== 2 || row.file_content === null) throw notFound();
    const name = (row.file_name ?? 'contacts.csv').replace(/[^\w.\- ]/g, '_');
    return reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${name}"`)
      .send(row.file_content);
  });
};
