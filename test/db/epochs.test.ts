import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { ENGINE, startTestApp, type TestApp } from '../helpers.js';
import { readEpoch } from '../../src/db/epochs.js';
import { AUTH_EPOCH } from '../../src/db/migrations/0010_auth_cache_epoch.js';

describe('readEpoch', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  const bump = () => sql`update cache_epochs set v = v + 1 where id = ${AUTH_EPOCH}`.execute(t.ctx.db);

  test('SQLite answers at once; PostgreSQL callers of one turn share one read', async () => {
    const first = readEpoch(t.ctx.db, 'cache_epochs', AUTH_EPOCH);
    const second = readEpoch(t.ctx.db, 'cache_epochs', AUTH_EPOCH);
    if (ENGINE === 'sqlite') {
      assert.equal(typeof first, 'number');
      assert.equal(first, second);
    } else {
      assert.ok(first instanceof Promise);
      assert.equal(first, second, 'the same read');
      assert.equal(await first, await second);
    }
  });

  test('a read always sees what was committed before it was asked for', async () => {
    const before = await readEpoch(t.ctx.db, 'cache_epochs', AUTH_EPOCH);
    // A read under way while a commit lands: whoever asks after the commit gets a read of its own.
    const underWay = readEpoch(t.ctx.db, 'cache_epochs', AUTH_EPOCH);
    await new Promise((r) => setImmediate(r));
    await bump();
    const after = readEpoch(t.ctx.db, 'cache_epochs', AUTH_EPOCH);
    assert.notEqual(after, underWay);
    assert.equal(await after, before + 1);
    assert.ok([before, before + 1].includes(await underWay));
  });
});
