import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINE, startTestApp, type TestApp, type TestUser } from '../helpers.js';
import { createContact, createConversation, createInbox, multipartBody } from '../modules/messages/fixtures.js';
import type { Row } from '../../src/db/types.js';

/**
 * SQLite's read workers (src/offload/): every read the registry lists answers the same status,
 * headers and body from a worker as from the request thread, sees what was committed just before
 * it, and leaves its reads to the request thread when no worker can take them.
 */
describe('read workers', { skip: ENGINE !== 'sqlite' && 'read workers serve SQLite only (PostgreSQL does its work in its own processes)' }, () => {
  let t: TestApp;
  let admin: TestUser;
  let agent: TestUser;
  let outsider: TestUser;
  let account: Row<'accounts'>;
  let conversation: Row<'conversations'>;

  before(async () => {
    t = await startTestApp({ READ_WORKERS: '1' });
    ({ account, admin, agent } = await t.seedAccount());
    outsider = await t.createUser({ accountId: account.id, role: 'agent' });
    const inbox = await createInbox(t, account.id, { memberIds: [agent.user.id] });
    const contact = await createContact(t, account.id, { name: 'Worker Contact', email: 'worker@example.com' });
    ({ conversation } = await createConversation(t, account.id, inbox, { contact }));
    const messages = `/api/v1/accounts/${account.id}/conversations/${conversation.display_id}/messages`;
    for (const content of ['first', 'second']) {
      const res = await t.request({ method: 'POST', url: messages, token: agent.token, payload: { content } });
      assert.equal(res.statusCode, 200, res.body);
    }
    // An attachment: its URLs start with FRONTEND_URL, which the worker must know too.
    const form = multipartBody({ content: 'with a file' }, [{ filename: 'note.txt', contentType: 'text/plain', data: Buffer.from('hello') }]);
    const uploaded = await t.request({ method: 'POST', url: messages, token: agent.token, payload: form.payload, headers: form.headers });
    assert.equal(uploaded.statusCode, 200, uploaded.body);
  });
  after(() => t.close());

  /** The same request answered by a worker, then with the pool set aside (the request thread). */
  async function bothWays(options: { method?: 'GET' | 'POST'; url: string; token: string; payload?: unknown }) {
    const pool = t.ctx.readPool!;
    const answeredBefore = pool.answered;
    const viaWorker = await t.request({ method: options.method ?? 'GET', url: options.url, token: options.token, payload: options.payload as never });
    assert.equal(pool.answered, answeredBefore + 1, `${options.url} went through a worker`);
    t.ctx.readPool = undefined;
    try {
      const inThread = await t.request({ method: options.method ?? 'GET', url: options.url, token: options.token, payload: options.payload as never });
      return { viaWorker, inThread };
    } finally {
      t.ctx.readPool = pool;
    }
  }

  const base = () => `/api/v1/accounts/${account.id}`;
  const cases = () => [
    { name: 'messages index', url: `${base()}/conversations/${conversation.display_id}/messages` },
    { name: 'messages index, before a cursor', url: `${base()}/conversations/${conversation.display_id}/messages?before=999999` },
    { name: 'conversation list', url: `${base()}/conversations?status=open` },
    { name: 'conversation list, inbox filter and page', url: `${base()}/conversations?inbox_id=${conversation.inbox_id}&page=2` },
    { name: 'conversations meta', url: `${base()}/conversations/meta` },
    { name: 'conversation show', url: `${base()}/conversations/${conversation.display_id}` },
    { name: 'contacts index', url: `${base()}/contacts` },
    { name: 'contacts search', url: `${base()}/contacts/search?q=worker` },
    {
      name: 'contacts filter',
      method: 'POST' as const,
      url: `${base()}/contacts/filter`,
      payload: { payload: [{ attribute_key: 'email', filter_operator: 'contains', values: ['worker'], query_operator: null }] },
    },
  ];

  test('every read answers the same from a worker as from the request thread', async () => {
    for (const c of cases()) {
      const { viaWorker, inThread } = await bothWays({ ...c, token: admin.token });
      assert.equal(viaWorker.statusCode, 200, `${c.name}: ${viaWorker.body}`);
      assert.equal(viaWorker.statusCode, inThread.statusCode, c.name);
      assert.equal(viaWorker.headers['content-type'], inThread.headers['content-type'], c.name);
      assert.deepEqual(viaWorker.json(), inThread.json(), c.name);
    }
    const messages = (await t.request({ url: cases()[0].url, token: admin.token })).json();
    assert.deepEqual(
      messages.payload.map((m: { content: string }) => m.content),
      ['first', 'second', 'with a file'],
    );
    assert.match(messages.payload[2].attachments[0].data_url, new RegExp(`^${t.config.frontendUrl}/rails/active_storage/`));
    // Presence is the request thread's: the caller, just seen, is online in the worker's answer too.
    assert.equal(messages.payload[0].sender.availability_status, 'online');
    const search = (await t.request({ url: `${base()}/contacts/search?q=worker`, token: admin.token })).json();
    assert.equal(search.meta.count, 1);
    assert.equal(search.payload[0].email, 'worker@example.com');
  });

  test('errors thrown in a worker come back with their status and body', async () => {
    const checks = [
      { url: `${base()}/conversations/999999/messages`, token: admin.token, status: 404 },
      { url: `${base()}/conversations/${conversation.display_id}/messages`, token: outsider.token, status: 401 },
      { url: `${base()}/conversations/${conversation.display_id}`, token: outsider.token, status: 401 },
      { url: `${base()}/contacts/search?q=`, token: admin.token, status: 422 },
    ];
    for (const c of checks) {
      const { viaWorker, inThread } = await bothWays(c);
      assert.equal(viaWorker.statusCode, c.status, `${c.url}: ${viaWorker.body}`);
      assert.equal(inThread.statusCode, c.status, c.url);
      assert.deepEqual(viaWorker.json(), inThread.json(), c.url);
    }
    assert.deepEqual((await t.request({ url: `${base()}/contacts/search`, token: admin.token })).json(), { error: 'Specify search string with parameter q' });
  });

  test('a worker reads what was committed just before it', async () => {
    const url = `${base()}/conversations/${conversation.display_id}/messages`;
    for (let i = 0; i < 5; i++) {
      const posted = await t.request({ method: 'POST', url, token: agent.token, payload: { content: `fresh ${i}` } });
      assert.equal(posted.statusCode, 200);
      const page = (await t.request({ url, token: agent.token })).json();
      assert.equal(page.payload.at(-1).content, `fresh ${i}`);
      assert.equal(page.payload.at(-1).id, posted.json().id);
    }
    const before = (await t.request({ url: `${base()}/contacts/search?q=renamed`, token: admin.token })).json();
    assert.equal(before.meta.count, 0);
    const contactId = conversation.contact_id;
    const put = await t.request({ method: 'PUT', url: `${base()}/contacts/${contactId}`, token: admin.token, payload: { name: 'Renamed Worker' } });
    assert.equal(put.statusCode, 200, put.body);
    const found = (await t.request({ url: `${base()}/contacts/search?q=renamed`, token: admin.token })).json();
    assert.equal(found.meta.count, 1);
    assert.equal(found.payload[0].name, 'Renamed Worker');
  });

  test('many reads at once are shared between the worker and the request thread, every one answered', async () => {
    const url = `${base()}/conversations/${conversation.display_id}/messages`;
    const expected = (await t.request({ url, token: admin.token })).json();
    const answers = await Promise.all(Array.from({ length: 40 }, () => t.request({ url, token: admin.token })));
    for (const a of answers) {
      assert.equal(a.statusCode, 200);
      assert.deepEqual(a.json(), expected);
    }
  });

  test('a worker that stops leaves its reads to the request thread', async () => {
    const pool = t.ctx.readPool!;
    const url = `${base()}/conversations/${conversation.display_id}/messages`;
    const expected = (await t.request({ url, token: admin.token })).json();
    await pool.workers[0].worker.terminate();
    const answeredBefore = pool.answered;
    const res = await t.request({ url, token: admin.token });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), expected);
    assert.equal(pool.answered, answeredBefore, 'answered on the request thread');
  });
});
