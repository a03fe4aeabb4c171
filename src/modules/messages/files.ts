import type { FastifyReply, FastifyRequest } from 'fastify';
import type {} from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AppContext } from '../../context.js';
import type { Row } from '../../db/types.js';
import { errorCode, HttpError, notFound, unprocessable } from '../../lib/errors.js';
import { secureToken } from '../../lib/random.js';
import { storageFor } from '../../storage/index.js';
import { MAX_ATTACHMENTS, type StoredFile } from './service.js';

/**
 * Attachment files. A stored file's key is `attachments/<account id>/<32 random characters>`;
 * its download URL carries `<account id>-<random part>`: a capability (about 190 bits of
 * randomness) that is never derived from anything guessable, so knowing it is the permission to
 * read the file, like Rails' signed blob ids. The route lives outside the account scope because
 * browsers, <img> tags and mobile clients follow it without an access token.
 */
export const ATTACHMENT_PATH_PREFIX = '/rails/active_storage/blobs/redirect';

let baseUrl = '';

/** The origin attachment URLs start with (FRONTEND_URL); set once when the routes are registered. */
export function setAttachmentBaseUrl(url: string): void {
  baseUrl = url.replace(/\/$/, '');
}

const TOKEN_FORMAT = /^(\d{1,12})-([A-Za-z0-9]{32})$/;

export function newFileKey(accountId: number): string {
  return `attachments/${accountId}/${secureToken(32)}`;
}

function tokenOf(fileKey: string): string | null {
  const m = /^attachments\/(\d+)\/([A-Za-z0-9]{32})$/.exec(fileKey);
  return m ? `${m[1]}-${m[2]}` : null;
}

function fileKeyOf(token: string): string | null {
  const m = TOKEN_FORMAT.exec(token);
  return m ? `attachments/${m[1]}/${m[2]}` : null;
}

/** The stable download URL of a stored attachment ('' when it has no stored file). */
export function attachmentUrl(a: Pick<Row<'attachments'>, 'file_key' | 'file_name'>): string {
  const token = a.file_key ? tokenOf(a.file_key) : null;
  if (!token) return '';
  return `${baseUrl}${ATTACHMENT_PATH_PREFIX}/${token}/${encodeURIComponent(a.file_name || 'file')}`;
}

/**
 * A client-supplied file name made harmless: no directories, no control characters, no
 * leading dots, at most 255 bytes' worth of characters. It is only ever used as a label
 * (JSON and Content-Disposition), never as a path.
 */
export function sanitizeFileName(raw: string | null | undefined): string {
  let name = String(raw ?? '').normalize('NFC');
  name = name.split(/[/\\]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  name = name.replace(/[\u0000-\u001f\u007f<>:"|?*]/g, '_').trim();
  name = name.replace(/^\.+/, '').trim();
  if (name.length > 200) {
    const dot = name.lastIndexOf('.');
    const ext = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : '';
    name = name.slice(0, 200 - ext.length) + ext;
  }
  return name === '' ? 'file' : name;
}

const MIME_FORMAT = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;

export function normalizeMimeType(raw: string | null | undefined): string {
  const mime = String(raw ?? '').split(';')[0].trim().toLowerCase();
  return MIME_FORMAT.test(mime) ? mime : 'application/octet-stream';
}

/** Types a browser could execute as a document: always served as a download of opaque bytes. */
const ACTIVE_TYPES = /^(text\/html|application\/xhtml\+xml|image\/svg\+xml|text\/xml|application\/xml|text\/javascript|application\/javascript|application\/ecmascript|text\/ecmascript|application\/x-shockwave-flash|text\/xsl|multipart\/.*)$/;
const INLINE_TYPES = /^(image\/(png|jpeg|gif|webp|bmp|avif|heic|heif)|audio\/.+|video\/.+|application\/pdf|text\/plain)$/;

function contentDisposition(kind: 'inline' | 'attachment', fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}

export interface ParsedMultipart {
  fields: Record<string, unknown>;
  files: StoredFile[];
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Sets `a[b][]`-style form keys the way Rails nests params (`a[][b]` starts a new element when b repeats). */
export function assignField(target: Record<string, unknown>, name: string, value: string): void {
  const m = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(name);
  if (!m) return;
  const keys = [m[1], ...[...m[2].matchAll(/\[([^[\]]*)\]/g)].map((x) => x[1])];
  if (keys.some((k) => FORBIDDEN_KEYS.has(k)) || keys.length > 8) return;
  setParam(target, keys, value);
}

function setParam(node: Record<string, unknown>, keys: string[], value: string): void {
  const [key, ...rest] = keys;
  if (key === '') return;
  if (rest.length === 0) {
    node[key] = value;
    return;
  }
  if (rest[0] === '') {
    if (!Array.isArray(node[key])) node[key] = [];
    const arr = node[key] as unknown[];
    const after = rest.slice(1);
    if (after.length === 0) {
      arr.push(value);
      return;
    }
    let last = arr[arr.length - 1];
    if (!isObject(last) || (after.length === 1 && after[0] in last)) {
      last = {};
      arr.push(last);
    }
    setParam(last as Record<string, unknown>, after, value);
    return;
  }
  if (!isObject(node[key])) node[key] = {};
  setParam(node[key] as Record<string, unknown>, rest, value);
}

function isMultipartError(error: unknown): error is { code: string; message: string } {
  const code = errorCode(error);
  return typeof code === 'string' && code.startsWith('FST_');
}

const tooBig = (limit: number) => unprocessable(`File size is too big (maximum is ${formatBytes(limit)})`);

function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KB`;
  return `${n} bytes`;
}

/**
 * Reads a multipart/form-data message: fields into a params object (Rails-style nested
 * names), `attachments[]` files streamed straight into storage. An oversized file or too many
 * files is a 422; whatever was stored before the failure is removed again.
 */
export async function readMultipartMessage(ctx: AppContext, request: FastifyRequest, accountId: number): Promise<ParsedMultipart> {
  const storage = storageFor(ctx.config);
  const limit = ctx.config.maxUploadBytes;
  const fields: Record<string, unknown> = {};
  const files: StoredFile[] = [];
  try {
    const parts = request.parts({ limits: { fileSize: limit, files: MAX_ATTACHMENTS, fields: 200, fieldSize: 1024 * 1024 } });
    for await (const part of parts) {
      if (part.type === 'field') {
        if (typeof part.value === 'string') assignField(fields, part.fieldname, part.value);
        else if (part.value !== undefined && !part.fieldname.includes('[')) fields[part.fieldname] = part.value;
        continue;
      }
      if (!/^attachments(\[\d*\])?$/.test(part.fieldname)) {
        // Not an attachment: drain it so parsing can continue.
        part.file.resume();
        continue;
      }
      const key = newFileKey(accountId);
      const size = await storage.put(key, part.file);
      if (part.file.truncated) {
        await storage.delete(key);
        throw tooBig(limit);
      }
      files.push({
        fileKey: key,
        fileName: sanitizeFileName(part.filename),
        contentType: normalizeMimeType(part.mimetype),
        byteSize: size,
        meta: await imageMeta(ctx, key, normalizeMimeType(part.mimetype)),
      });
    }
  } catch (error) {
    for (const f of files) await storage.delete(f.fileKey).catch(() => undefined);
    if (error instanceof HttpError) throw error;
    if (isMultipartError(error)) {
      if (error.code === 'FST_REQ_FILE_TOO_LARGE') throw tooBig(limit);
      if (error.code === 'FST_FILES_LIMIT') throw unprocessable('Validation failed: Attachments exceeded maximum allowed');
      throw new HttpError(400, { error: 'Bad Request', message: error.message });
    }
    const message = (error as Error)?.message ?? '';
    if (/multipart|boundary|part terminated|Unexpected end/i.test(message)) {
      throw new HttpError(400, { error: 'Bad Request', message });
    }
    throw error;
  }
  return { fields, files };
}

/** Width and height of PNG, GIF, JPEG and WebP images, read from their first bytes. */
async function imageMeta(ctx: AppContext, key: string, mime: string): Promise<Record<string, unknown>> {
  if (!mime.startsWith('image/')) return {};
  try {
    const stream = await storageFor(ctx.config).stream(key);
    if (!stream) return {};
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of stream) {
      chunks.push(chunk as Buffer);
      total += (chunk as Buffer).length;
      if (total >= 256 * 1024) break;
    }
    stream.destroy();
    const size = imageSize(Buffer.concat(chunks));
    return size ? { width: size.width, height: size.height } : {};
  } catch {
    return {};
  }
}

export function imageSize(b: Buffer): { width: number; height: number } | null {
  if (b.length >= 24 && b.readUInt32BE(0) === 0x89504e47) return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
  if (b.length >= 10 && b.toString('ascii', 0, 3) === 'GIF') return { width: b.readUInt16LE(6), height: b.readUInt16LE(8) };
  if (b.length >= 30 && b.toString('ascii', 0, 4) === 'RIFF' && b.toString('ascii', 8, 12) === 'WEBP') {
    const kind = b.toString('ascii', 12, 16);
    if (kind === 'VP8X') return { width: 1 + b.readUIntLE(24, 3), height: 1 + b.readUIntLE(27, 3) };
    if (kind === 'VP8 ') return { width: b.readUInt16LE(26) & 0x3fff, height: b.readUInt16LE(28) & 0x3fff };
    if (kind === 'VP8L') {
      const bits = b.readUInt32LE(21);
      return { width: 1 + (bits & 0x3fff), height: 1 + ((bits >> 14) & 0x3fff) };
    }
    return null;
  }
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8) {
    let i = 2;
    while (i + 9 < b.length) {
      if (b[i] !== 0xff) return null;
      const marker = b[i + 1];
      const len = b.readUInt16BE(i + 2);
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { width: b.readUInt16BE(i + 7), height: b.readUInt16BE(i + 5) };
      }
      i += 2 + len;
    }
  }
  return null;
}

/** A single `bytes=` range, clamped to the file; multi-range requests get the whole file. */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (!Number.isSafeInteger(start) || start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

/**
 * GET /rails/active_storage/blobs/redirect/:token/:filename — the file itself. No session is
 * needed (the token is the permission); active content is never served as something a browser
 * would render, and every response forbids sniffing and scripting.
 */
export const attachmentFileRoutes: FastifyPluginAsyncTypebox = async (app) => {
  setAttachmentBaseUrl(app.ctx.config.frontendUrl);
  const schema = {
    hide: true,
    params: Type.Object({ token: Type.String({ maxLength: 64 }), filename: Type.String({ maxLength: 1024 }) }),
  };
  const handler = async (request: FastifyRequest<{ Params: { token: string; filename: string } }>, reply: FastifyReply) => {
    const key = fileKeyOf(request.params.token);
    if (!key) throw notFound();
    const attachment = await app.ctx.db
      .selectFrom('attachments')
      .select(['file_key', 'file_name', 'content_type', 'byte_size'])
      .where('file_key', '=', key)
      .executeTakeFirst();
    if (!attachment) throw notFound();
    const storage = storageFor(app.ctx.config);
    const size = await storage.size(key);
    if (size === null) throw notFound();
    const mime = normalizeMimeType(attachment.content_type);
    const active = ACTIVE_TYPES.test(mime);
    const inline = !active && INLINE_TYPES.test(mime);
    reply
      .header('content-type', active ? 'application/octet-stream' : mime === 'text/plain' ? 'text/plain; charset=utf-8' : mime)
      .header('content-disposition', contentDisposition(inline ? 'inline' : 'attachment', attachment.file_name || 'file'))
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "default-src 'none'; img-src 'self'; media-src 'self'; sandbox")
      .header('cross-origin-resource-policy', 'cross-origin')
      .header('cache-control', 'private, max-age=3600')
      .header('accept-ranges', 'bytes');
    // Audio and video players seek with Range requests (Safari will not play without them).
    const range = parseRange(request.headers.range, size);
    if (range === 'unsatisfiable') {
      return reply.status(416).header('content-range', `bytes */${size}`).send();
    }
    if (range) {
      reply.status(206).header('content-range', `bytes ${range.start}-${range.end}/${size}`).header('content-length', range.end - range.start + 1);
    } else {
      reply.header('content-length', size);
    }
    if (request.method === 'HEAD' || size === 0) return reply.send();
    const stream = await storage.stream(key, range ?? undefined);
    if (!stream) throw notFound();
    return reply.send(stream);
  };
  // An explicit HEAD route: the automatic one would report a length of 0 or read the whole file.
  app.get(`${ATTACHMENT_PATH_PREFIX}/:token/:filename`, { schema, exposeHeadRoute: false }, handler);
  app.head(`${ATTACHMENT_PATH_PREFIX}/:token/:filename`, { schema }, handler);
};
