import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINE, startTestApp, type TestApp } from '../helpers.js';

let t: TestApp;
before(async () => {
  t = await startTestApp();
});
after(() => t.close());

// Both engines plan a statement better when its page size and offset are in its text (connection.ts).
test(`LIMIT and OFFSET integers are written into the SQL, anything else stays bound (${ENGINE})`, async () => {
  const page = t.ctx.db.selectFrom('accounts').select('id').orderBy('id').limit(25).offset(50).compile();
  assert.match(page.sql, /limit 25 offset 50$/);
  assert.equal(page.parameters.length, 0, 'no parameter for the page');

  const fraction = t.ctx.db.selectFrom('accounts').select('id').limit(2.5 as number).compile();
  assert.match(fraction.sql, /limit (\?|\$1)$/, 'a non-integer is left to the engine to reject');
  assert.deepEqual(fraction.parameters, [2.5]);

  // And the inlined query runs on the engine: a page within the rows, then nothing past their end.
  const all = await t.ctx.db.selectFrom('cache_epochs').select('id').orderBy('id').execute();
  assert.ok(all.length >= 2);
  const second = await t.ctx.db.selectFrom('cache_epochs').select('id').orderBy('id').limit(1).offset(1).execute();
  assert.deepEqual(second, [all[1]]);
  const none = await t.ctx.db.selectFrom('cache_epochs').select('id').orderBy('id').limit(1).offset(1_000_000).execute();
  assert.deepEqual(none, []);
});
