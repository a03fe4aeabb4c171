import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import type { Config } from '../config.js';
import { errorCode } from '../lib/errors.js';

/**
 * Where uploaded files live. Keys are opaque, slash-separated and chosen by Parley (never by
 * a client), so an implementation may map them onto paths or object names directly.
 * Local disk is the default; an S3-compatible store implements the same five calls.
 */
export interface FileStorage {
  /** Stores `data` under `key`, replacing what was there; resolves with the stored size in bytes. */
  put(key: string, data: Buffer | Readable): Promise<number>;
  /** The whole object, or null when there is none. */
  get(key: string): Promise<Buffer | null>;
  /** A stream of the object (or of bytes start..end inclusive), or null when there is none. */
  stream(key: string, range?: ByteRange): Promise<Readable | null>;
  /** Removes the object; removing a missing one is not an error. */
  delete(key: string): Promise<void>;
  /** Size in bytes, or null when missing. */
  size(key: string): Promise<number | null>;
}

export interface ByteRange {
  start: number;
  end: number;
}

export class InvalidStorageKey extends Error {}

const KEY_FORMAT = /^[A-Za-z0-9][A-Za-z0-9_-]*(\/[A-Za-z0-9][A-Za-z0-9_-]*)*$/;

/** Keys are [A-Za-z0-9_-] segments joined by '/': no '..', no absolute paths, no surprises. */
export function assertValidKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > 512 || !KEY_FORMAT.test(key)) {
    throw new InvalidStorageKey(`invalid storage key: ${JSON.stringify(key)}`);
  }
}

/** Files under one directory, one file per key; writes land in a temp file and are renamed into place. */
export class LocalDiskStorage implements FileStorage {
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  private pathOf(key: string): string {
    assertValidKey(key);
    const path = resolve(join(this.root, ...key.split('/')));
    // Belt and braces: the key format already rules out escaping the root.
    if (!path.startsWith(this.root + sep)) throw new InvalidStorageKey(`invalid storage key: ${JSON.stringify(key)}`);
    return path;
  }

  async put(key: string, data: Buffer | Readable): Promise<number> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.${randomBytes(6).toString('hex')}.part`;
    try {
      const source = Buffer.isBuffer(data) ? Readable.from([data]) : data;
      await pipeline(source, createWriteStream(tmp, { flags: 'wx' }));
      await rename(tmp, path);
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
    return (await stat(path)).size;
  }

  async get(key: string): Promise<Buffer | null> {
    try {
      return await readFile(this.pathOf(key));
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async stream(key: string, range?: ByteRange): Promise<Readable | null> {
    const path = this.pathOf(key);
    if ((await this.size(key)) === null) return null;
    return createReadStream(path, range ? { start: range.start, end: range.end } : {});
  }

  async delete(key: string): Promise<void> {
    try {
      await unlink(this.pathOf(key));
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
  }

  async size(key: string): Promise<number | null> {
    try {
      const s = await stat(this.pathOf(key));
      return s.isFile() ? s.size : null;
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }
}

function isMissing(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

const instances = new Map<string, FileStorage>();

/** The storage a configuration points at (one instance per directory, shared by the process). */
export function storageFor(config: Pick<Config, 'storageDir'>): FileStorage {
  let storage = instances.get(config.storageDir);
  if (!storage) {
    storage = new LocalDiskStorage(config.storageDir);
    instances.set(config.storageDir, storage);
  }
  return storage;
}
