import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, DEFAULT_SQLITE_CACHE_MB, loadConfig } from '../../src/config.js';
import { openStore, rawSqlite } from '../../src/db/connection.js';

test('SQLITE_CACHE_MB sets the SQLite page cache (default 128 MiB) and rejects what is not a size', async () => {
  assert.equal(loadConfig({}).sqliteCacheMb, DEFAULT_SQLITE_CACHE_MB);
  assert.equal(loadConfig({ SQLITE_CACHE_MB: '32' }).sqliteCacheMb, 32);
  assert.throws(() => loadConfig({ SQLITE_CACHE_MB: 'lots' }), (e: Error) => e instanceof ConfigError && /SQLITE_CACHE_MB/.test(e.message));
  assert.throws(() => loadConfig({ SQLITE_CACHE_MB: '-5' }), ConfigError);

  const dir = mkdtempSync(join(tmpdir(), 'parley-cache-'));
  try {
    for (const [mb, expected] of [[32, -32 * 1024], [undefined, -DEFAULT_SQLITE_CACHE_MB * 1024]] as const) {
      const store = openStore({ engine: 'sqlite', databaseUrl: join(dir, `db-${mb ?? 'default'}.sqlite3`), pgSchema: '', sqliteCacheMb: mb });
      try {
        assert.equal(rawSqlite.get(store.db)!.pragma('cache_size', { simple: true }), expected);
      } finally {
        await store.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
