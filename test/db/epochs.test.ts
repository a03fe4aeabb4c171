import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import SQLite from 'better-sqlite3';
import { CommitProbe } from '../../src/db/commit-probe.js';
import { ENGINE, startTestApp, type TestApp } from '../helpers.js';
import { readEpoch } from '../../src/db/epochs.js';
import { readRequestEpochs } from '../../src/auth/cache.js';
import { AUTH_EPOCH } from '../../src/db/migrations/0010_auth_cache_epoch.js';
import { CONTACT_SEARCH_EPOCH } from '../../src/db/migrations/0651_contacts_search_epoch.js';
import { CONTACTS_EPOCH } from '../../src/db/migrations/0653_contacts_epoch.js';
import { EPOCH_STRIPES } from '../../src/db/migrations/0720_striped_contact_epochs.js';
import { COUNTS_EPOCH } from '../../src/db/migrations/0602_conversation_counts_epoch.js';
import { createConversation, makeContact, makeInbox } from '../modules/conversations/fixtures.js';

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

  test('PostgreSQL: a caller of a later turn joins a read not yet sent, never one that was', { skip: ENGINE !== 'postgres' || process.env.PG_PIPELINE === '0' }, async () => {
    const turn = () => new Promise((r) => setImmediate(r));
    const first = readEpoch(t.ctx.db, 'cache_epochs', AUTH_EPOCH);
    await turn();
    await turn();
    // The batch that carries the read waits for a turn that brings it nothing (db/pg-pipeline.ts).
    assert.equal(readEpoch(t.ctx.db, 'cache_epochs', AUTH_EPOCH), first, 'joined two turns later: not sent yet');
    await turn();
    // That turn brought no query: the batch was sent when it ended, answered or not.
    const second = readEpoch(t.ctx.db, 'cache_epochs', AUTH_EPOCH);
    assert.notEqual(second, first, 'sent: a read of its own');
    assert.equal(await second, await first);
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

  test('SQLite: a commit by another connection (another process) is seen by the next read', { skip: ENGINE !== 'sqlite' }, async () => {
    const path = t.config.databaseUrl;
    const first = readEpoch(t.ctx.db, 'cache_epochs', AUTH_EPOCH) as number;
    assert.equal(readEpoch(t.ctx.db, 'cache_epochs', AUTH_EPOCH), first, 'nothing committed: the same value');
    const other = new SQLite(path);
    try {
      other.pragma('busy_timeout = 5000');
      other.prepare(`update cache_epochs set v = v + 1 where id = ${AUTH_EPOCH}`).run();
      assert.equal(readEpoch(t.ctx.db, 'cache_epochs', AUTH_EPOCH), first + 1);
      // A commit elsewhere that leaves the epoch alone: read again, still the same value.
      other.prepare('update cache_epochs set v = v where id = 2').run();
      assert.equal(readEpoch(t.ctx.db, 'cache_epochs', AUTH_EPOCH), first + 1);
    } finally {
      other.close();
    }
  });

  test('CommitProbe: a generation per committed change, null without a WAL-index', { skip: ENGINE !== 'sqlite' }, () => {
    const probe = new CommitProbe(t.config.databaseUrl);
    const missing = new CommitProbe(`${t.config.databaseUrl}.absent`);
    const other = new SQLite(t.config.databaseUrl);
    try {
      const a = probe.look();
      assert.equal(typeof a, 'number');
      assert.equal(probe.look(), a);
      other.prepare('update cache_epochs set v = v + 1 where id = 2').run();
      assert.notEqual(probe.look(), a);
      assert.equal(missing.look(), null);
    } finally {
      other.close();
      probe.close();
      missing.close();
    }
  });
});

/** PostgreSQL: a connection of its own to the test's schema, for transactions the test steps through. */
async function connectTo(t: TestApp) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL, options: `-c search_path=${t.config.pgSchema}` });
  await client.connect();
  return client;
}

type TestClient = Awaited<ReturnType<typeof connectTo>>;

/** Begins a transaction on `client` whose id's stripe (0720) satisfies `wanted`, rolling back those that do not; its stripe. */
async function beginOnStripe(client: TestClient, wanted: (stripe: number) => boolean = () => true): Promise<number> {
  for (;;) {
    await client.query('begin');
    const stripe = Number((await client.query('select txid_current() as x')).rows[0].x) % EPOCH_STRIPES;
    if (wanted(stripe)) return stripe;
    await client.query('rollback');
  }
}

/** A new account with contacts of these names, in order. */
async function contactsOfNewAccount(t: TestApp, names: string[]): Promise<{ accountId: number; ids: number[] }> {
  const account = await t.createAccount();
  const at = Date.now();
  const ids: number[] = [];
  for (const name of names) {
    const row = await t.ctx.db.insertInto('contacts').values({ account_id: account.id, name, created_at: at, updated_at: at }).returning('id').executeTakeFirstOrThrow();
    ids.push(row.id);
  }
  return { accountId: account.id, ids };
}

describe('striped contact epochs (PostgreSQL, migration 0720)', { skip: ENGINE !== 'postgres' ? 'PostgreSQL keeps the contact epochs in stripes' : false }, () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  test('two transactions writing different contacts do not wait for each other, and each moves the epoch', async () => {
    const { ids } = await contactsOfNewAccount(t, ['First', 'Second']);
    const [a, b] = [await connectTo(t), await connectTo(t)];
    try {
      const before = await readEpoch(t.ctx.db, 'cache_epochs', CONTACTS_EPOCH);
      const stripeA = await beginOnStripe(a);
      await a.query(`update contacts set name = 'First, renamed' where id = $1`, [ids[0]]);
      // The stripe is the transaction id's remainder: a second transaction on A's stripe would wait
      // for it, as every contact write waited for every other before.
      await beginOnStripe(b, (stripe) => stripe !== stripeA);
      await b.query(`set local lock_timeout = '2s'`);
      await b.query(`update contacts set name = 'Second, renamed' where id = $1`, [ids[1]]);
      await b.query('commit');
      await a.query('commit');
      assert.equal(await readEpoch(t.ctx.db, 'cache_epochs', CONTACTS_EPOCH), before + 2);
    } finally {
      await a.end();
      await b.end();
    }
  });
});

describe('contact epochs at commit (PostgreSQL, migration 0740)', { skip: ENGINE !== 'postgres' ? 'PostgreSQL keeps the contact epochs in stripes' : false }, () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  const sums = async (client: { query: (q: string) => Promise<{ rows: { epoch: number; v: number }[] }> }) => {
    const { rows } = await client.query(`select epoch, sum(v)::integer as v from cache_epoch_stripes where epoch in (${CONTACTS_EPOCH}, ${CONTACT_SEARCH_EPOCH}) group by epoch`);
    return Object.fromEntries(rows.map((r) => [r.epoch, Number(r.v)]));
  };
  const twoContacts = () => contactsOfNewAccount(t, ['Base', 'Mergee']);

  test('contact writes move both epochs when their transaction commits, not before, and once', async () => {
    const { accountId, ids } = await twoContacts();
    const client = await connectTo(t);
    try {
      const before = await sums(client);
      await client.query('begin');
      await client.query(`update contacts set name = name || ' renamed' where id in (${ids.join(', ')})`);
      await client.query(`insert into taggings (account_id, taggable_type, taggable_id, name, created_at) values (${accountId}, 'Contact', ${ids[0]}, 'vip', 0)`);
      await client.query(`update contacts set email = 'base@example.com' where id = ${ids[0]}`);
      assert.deepEqual(await sums(client), before, 'the bumps wait for the commit');
      await client.query('commit');
      assert.deepEqual(await sums(client), { [CONTACTS_EPOCH]: before[CONTACTS_EPOCH] + 1, [CONTACT_SEARCH_EPOCH]: before[CONTACT_SEARCH_EPOCH] + 1 });
      // Only last_activity_at: neither epoch moves (0710's rule, and search does not read it).
      await client.query(`update contacts set last_activity_at = 5, updated_at = 6 where id = ${ids[0]}`);
      const after = await sums(client);
      assert.deepEqual(after, { [CONTACTS_EPOCH]: before[CONTACTS_EPOCH] + 1, [CONTACT_SEARCH_EPOCH]: before[CONTACT_SEARCH_EPOCH] + 1 });
      // A rolled-back write moves nothing.
      await client.query('begin');
      await client.query(`delete from contacts where id = ${ids[1]}`);
      await client.query('rollback');
      assert.deepEqual(await sums(client), after);
    } finally {
      await client.end();
    }
  });

  test('two transactions on one stripe that take each other’s contacts do not deadlock', async () => {
    const { ids } = await twoContacts();
    const [a, b] = [await connectTo(t), await connectTo(t)];
    try {
      const before = await sums(a);
      // A: a merge's first step, the base contact's update.
      const stripeA = await beginOnStripe(a);
      await a.query(`update contacts set name = 'Base, merged' where id = ${ids[0]}`);
      // B on A's stripe updates the mergee. With the bump taken at each statement, B would wait
      // for A's stripe holding the mergee's row, which A's delete then waits for: a deadlock.
      await beginOnStripe(b, (stripe) => stripe === stripeA);
      await b.query(`set local lock_timeout = '5s'`);
      await b.query(`update contacts set name = 'Mergee, renamed' where id = ${ids[1]}`);
      const aWaits = a.query(`delete from contacts where id = ${ids[1]}`);
      await b.query('commit');
      await aWaits;
      await a.query('commit');
      const after = await sums(a);
      assert.ok(after[CONTACTS_EPOCH] >= before[CONTACTS_EPOCH] + 2 && after[CONTACT_SEARCH_EPOCH] >= before[CONTACT_SEARCH_EPOCH] + 2, JSON.stringify({ before, after }));
    } finally {
      await a.end();
      await b.end();
    }
  });
});

describe('striped conversation counts epoch (PostgreSQL, migration 0730)', { skip: ENGINE !== 'postgres' ? 'PostgreSQL keeps the counts epoch in stripes' : false }, () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  const connect = () => connectTo(t);
  const stripeSum = async (client: { query: (q: string) => Promise<{ rows: { v: number }[] }> }) =>
    Number((await client.query(`select sum(v)::integer as v from cache_epoch_stripes where epoch = ${COUNTS_EPOCH}`)).rows[0].v);

  /** Three open conversations: the first in inbox A, the other two in inbox B (one counter row). */
  const threeConversations = async () => {
    const { account, admin } = await t.seedAccount();
    const [inboxA, inboxB] = [await makeInbox(t, account.id, { members: [admin.user.id] }), await makeInbox(t, account.id, { members: [admin.user.id] })];
    const contact = await makeContact(t, account.id, { name: 'Counted' });
    const ids: number[] = [];
    for (const inbox of [inboxA, inboxB, inboxB]) {
      const created = await createConversation(t, account.id, admin, { inbox_id: inbox.id, contact_id: contact.id });
      const row = await t.ctx.db.selectFrom('conversations').select('id').where('account_id', '=', account.id).where('display_id', '=', created.id).executeTakeFirstOrThrow();
      ids.push(row.id);
    }
    return ids;
  };

  test('the counts epoch is read with the auth epoch only for the routes that show counts', async () => {
    const alone = await readRequestEpochs(t.ctx.db, 'postgres', false);
    assert.equal(alone.counts, undefined);
    const both = await readRequestEpochs(t.ctx.db, 'postgres', true);
    assert.equal(both.auth, alone.auth);
    assert.equal(both.counts, await readEpoch(t.ctx.db, 'cache_epochs', COUNTS_EPOCH));
  });

  test('a counter change moves the epoch when its transaction commits, not before, and once', async () => {
    const [id, other] = await threeConversations();
    const client = await connect();
    try {
      const before = await stripeSum(client);
      await client.query('begin');
      await client.query(`update conversations set status = 1 where id = ${id}`);
      await client.query(`update conversations set status = 2, assignee_id = null where id = ${other}`);
      assert.equal(await stripeSum(client), before, 'the bump is deferred to the commit');
      await client.query('commit');
      // Four counter rows moved; one bump for the transaction.
      assert.equal(await readEpoch(t.ctx.db, 'cache_epochs', COUNTS_EPOCH), before + 1);
      // A write that moves no counter leaves the epoch alone.
      const after = await stripeSum(client);
      await client.query(`update conversations set last_activity_at = 5 where id = ${id}`);
      assert.equal(await stripeSum(client), after);
    } finally {
      await client.end();
    }
  });

  test('two transactions on one stripe that take each other’s counter rows do not deadlock', async () => {
    const [first, second, third] = await threeConversations();
    const [a, b] = [await connect(), await connect()];
    try {
      const before = await stripeSum(a);
      const stripeA = await beginOnStripe(a);
      await a.query(`update conversations set status = 1 where id = ${first}`);
      // B on A's stripe. With the bump taken at each counter change, B would wait for A's stripe
      // while holding inbox B's counter rows, which A then asks for: a deadlock.
      await beginOnStripe(b, (stripe) => stripe === stripeA);
      await b.query(`set local lock_timeout = '5s'`);
      await b.query(`update conversations set status = 1 where id = ${second}`);
      const aWaits = a.query(`update conversations set status = 1 where id = ${third}`);
      await b.query('commit');
      await aWaits;
      await a.query('commit');
      assert.ok((await stripeSum(a)) >= before + 2);
    } finally {
      await a.end();
      await b.end();
    }
  });
});
