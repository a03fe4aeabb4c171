import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp, type TestUser } from '../../helpers.js';
import type { Row } from '../../../src/db/types.js';
import { markPresent, clearPresence } from '../../../src/realtime/presence.js';
import { addInboxMember, createApiInbox, createConversation, createDefinition, createIncomingMessage } from './fixtures.js';

const CONTACT_KEYS = [
  'additional_attributes',
  'availability_status',
  'blocked',
  'contact_inboxes',
  'created_at',
  'custom_attributes',
  'email',
  'id',
  'identifier',
  'name',
  'phone_number',
  'thumbnail',
].sort();

describe('contacts', () => {
  let t: TestApp;
  let account: Row<'accounts'>;
  let admin: TestUser;
  let agent: TestUser;
  let inbox: Row<'inboxes'>;
  let other: { account: Row<'accounts'>; admin: TestUser };
  const base = () => `/api/v1/accounts/${account.id}`;

  before(async () => {
    t = await startTestApp();
    ({ account, admin, agent } = await t.seedAccount());
    inbox = await createApiInbox(t, account.id);
    const seeded = await t.seedAccount();
    other = { account: seeded.account, admin: seeded.admin };
  });
  after(async () => {
    clearPresence();
    await t.close();
  });

  const create = (payload: Record<string, unknown>, token = admin.token) =>
    t.request({ method: 'POST', url: `${base()}/contacts`, token, payload });

  describe('POST /contacts', () => {
    it('creates a contact with a contact inbox and answers Chatwoot’s shape', async () => {
      const res = await create({
        name: 'Jane Doe',
        email: 'Jane@Example.COM',
        phone_number: '+14155550100',
        identifier: 'jane-1',
        additional_attributes: { city: 'Berlin', company_name: 'Acme' },
        custom_attributes: { plan: 'pro' },
        inbox_id: inbox.id,
      });
      assert.equal(res.statusCode, 200, res.body);
      const { payload } = res.json();
      assert.deepEqual(Object.keys(payload).sort(), ['contact', 'contact_inbox']);
      const c = payload.contact;
      assert.deepEqual(Object.keys(c).sort(), CONTACT_KEYS);
      assert.equal(c.name, 'Jane Doe');
      assert.equal(c.email, 'jane@example.com', 'emails are stored lower-cased');
      assert.equal(c.phone_number, '+14155550100');
      assert.equal(c.identifier, 'jane-1');
      assert.equal(c.blocked, false);
      assert.equal(c.availability_status, 'offline');
      assert.equal(c.thumbnail, '');
      assert.deepEqual(c.additional_attributes, { city: 'Berlin', company_name: 'Acme' });
      assert.deepEqual(c.custom_attributes, { plan: 'pro' });
      assert.equal(typeof c.created_at, 'number');
      assert.ok(c.created_at < 10_000_000_000, 'created_at is in Unix seconds');
      assert.equal(c.contact_inboxes.length, 1);
      assert.equal(typeof c.contact_inboxes[0].source_id, 'string');
      assert.deepEqual(c.contact_inboxes[0].inbox, {
        id: inbox.id,
        avatar_url: '',
        channel_id: inbox.channel_id,
        name: inbox.name,
        channel_type: 'Channel::Api',
        provider: null,
      });
      assert.equal(payload.contact_inbox.source_id, c.contact_inboxes[0].source_id);
      assert.equal(payload.contact_inbox.inbox.id, inbox.id);
      assert.equal(payload.contact_inbox.inbox.channel_type, 'Channel::Api');
      const row = await t.ctx.db.selectFrom('contacts').selectAll().where('id', '=', c.id).executeTakeFirstOrThrow();
      assert.equal(row.location, 'Berlin');
      assert.equal(row.contact_type, 1, 'a contact with an email is a lead');
    });

    it('creates without an inbox (contact_inbox has nulls) and accepts the {"contact":{…}} wrapper', async () => {
      const res = await create({ contact: { name: 'Wrapped', email: 'wrapped@example.com' } }, agent.token);
      assert.equal(res.statusCode, 200, res.body);
      const { payload } = res.json();
      assert.equal(payload.contact.name, 'Wrapped');
      assert.deepEqual(payload.contact.contact_inboxes, []);
      assert.deepEqual(payload.contact_inbox, { inbox: null, source_id: null });
    });

    it('uses the given source_id', async () => {
      const res = await create({ name: 'Sourced', identifier: 'sourced', inbox_id: inbox.id, source_id: 'my-source' });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().payload.contact_inbox.source_id, 'my-source');
    });

    it('rejects duplicates case-insensitively with Chatwoot’s 422', async () => {
      await create({ name: 'Dup', email: 'dup@example.com', phone_number: '+4915112345678', identifier: 'dup-id' });
      let res = await create({ name: 'Dup 2', email: 'DUP@example.com' });
      assert.equal(res.statusCode, 422);
      assert.deepEqual(res.json(), { message: 'Email has already been taken', attributes: ['email'] });
      res = await create({ phone_number: '+4915112345678' });
      assert.equal(res.statusCode, 422);
      assert.deepEqual(res.json(), { message: 'Phone number has already been taken', attributes: ['phone_number'] });
      res = await create({ identifier: 'dup-id' });
      assert.deepEqual(res.json(), { message: 'Identifier has already been taken', attributes: ['identifier'] });
    });

    it('allows the same email in another account', async () => {
      const res = await create({ email: 'dup@example.com' }, other.admin.token);
      assert.equal(res.statusCode, 401, 'an admin of another account is not a member here');
      const own = await t.request({
        method: 'POST',
        url: `/api/v1/accounts/${other.account.id}/contacts`,
        token: other.admin.token,
        payload: { email: 'dup@example.com' },
      });
      assert.equal(own.statusCode, 200, own.body);
    });

    it('validates email format and E.164 phone numbers', async () => {
      let res = await create({ email: 'not-an-email' });
      assert.equal(res.statusCode, 422);
      assert.deepEqual(res.json(), { message: 'Email Invalid email', attributes: ['email'] });
      res = await create({ phone_number: '0151 1234' });
      assert.equal(res.statusCode, 422);
      assert.deepEqual(res.json(), { message: 'Phone number should be in e164 format', attributes: ['phone_number'] });
      res = await create({ phone_number: '+0123' });
      assert.equal(res.statusCode, 422);
    });

    it('rejects non-object additional_attributes/custom_attributes with 400 and writes nothing', async () => {
      const before = await t.ctx.db.selectFrom('contacts').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      for (const bad of [{ additional_attributes: 'x' }, { custom_attributes: [1, 2] }, { custom_attributes: 5 }]) {
        const res = await create({ name: 'Bad', email: `bad${Math.random()}@x.com`, ...bad });
        assert.equal(res.statusCode, 400, JSON.stringify(bad));
      }
      const after = await t.ctx.db.selectFrom('contacts').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      assert.equal(Number(after.n), Number(before.n));
    });

    it('checks custom attribute values against their definitions', async () => {
      await createDefinition(t, account.id, 'seats', 1);
      let res = await create({ email: 'seats@example.com', custom_attributes: { seats: 'many' } });
      assert.equal(res.statusCode, 422, res.body);
      assert.deepEqual(res.json().attributes, ['custom_attributes']);
      res = await create({ email: 'seats@example.com', custom_attributes: { seats: 12 } });
      assert.equal(res.statusCode, 200, res.body);
    });

    it('404s an inbox of another account and keeps no half-made contact', async () => {
      const foreign = await createApiInbox(t, other.account.id);
      const res = await create({ email: 'half@example.com', inbox_id: foreign.id });
      assert.equal(res.statusCode, 404);
      const row = await t.ctx.db.selectFrom('contacts').select('id').where('email', '=', 'half@example.com').executeTakeFirst();
      assert.equal(row, undefined);
    });
  });

  describe('GET/PUT/DELETE /contacts/:id', () => {
    let contact: { id: number };
    before(async () => {
      contact = (await create({ name: 'Show Me', email: 'show@example.com', additional_attributes: { a: 1 }, custom_attributes: { x: 1 } })).json()
        .payload.contact;
    });

    it('shows the contact with contact_inboxes unless include_contact_inboxes=false', async () => {
      let res = await t.request({ method: 'GET', url: `${base()}/contacts/${contact.id}`, token: agent.token });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(Object.keys(res.json().payload).sort(), CONTACT_KEYS);
      res = await t.request({ method: 'GET', url: `${base()}/contacts/${contact.id}?include_contact_inboxes=false`, token: agent.token });
      assert.equal(res.json().payload.contact_inboxes, undefined);
    });

    it('updates fields and merges custom/additional attributes', async () => {
      const res = await t.request({
        method: 'PUT',
        url: `${base()}/contacts/${contact.id}`,
        token: agent.token,
        payload: { name: 'Shown', blocked: true, additional_attributes: { b: 2 }, custom_attributes: { y: 2 } },
      });
      assert.equal(res.statusCode, 200, res.body);
      const c = res.json().payload;
      assert.equal(c.name, 'Shown');
      assert.equal(c.blocked, true);
      assert.equal(c.email, 'show@example.com');
      assert.deepEqual(c.additional_attributes, { a: 1, b: 2 });
      assert.deepEqual(c.custom_attributes, { x: 1, y: 2 });
    });

    it('rejects an update to a taken email', async () => {
      const res = await t.request({ method: 'PATCH', url: `${base()}/contacts/${contact.id}`, token: agent.token, payload: { email: 'JANE@example.com' } });
      assert.equal(res.statusCode, 422);
      assert.deepEqual(res.json(), { message: 'Email has already been taken', attributes: ['email'] });
    });

    it('404s another account’s contact on every member route', async () => {
      const foreign = (
        await t.request({ method: 'POST', url: `/api/v1/accounts/${other.account.id}/contacts`, token: other.admin.token, payload: { email: 'foreign@x.com' } })
      ).json().payload.contact;
      for (const [method, path] of [
        ['GET', ''],
        ['PUT', ''],
        ['DELETE', ''],
        ['GET', '/labels'],
        ['POST', '/labels'],
        ['GET', '/notes'],
        ['POST', '/notes'],
        ['GET', '/contactable_inboxes'],
        ['POST', '/contact_inboxes'],
      ] as const) {
        const res = await t.request({ method, url: `${base()}/contacts/${foreign.id}${path}`, token: admin.token, payload: method === 'GET' || method === 'DELETE' ? undefined : { content: 'x', inbox_id: inbox.id } });
        assert.equal(res.statusCode, 404, `${method} ${path}`);
        assert.deepEqual(res.json(), { error: 'Resource could not be found' });
      }
    });

    it('lets only administrators delete (ContactPolicy#destroy?)', async () => {
      const victim = (await create({ email: 'victim@example.com', inbox_id: inbox.id })).json().payload.contact;
      let res = await t.request({ method: 'DELETE', url: `${base()}/contacts/${victim.id}`, token: agent.token });
      assert.equal(res.statusCode, 401);
      assert.deepEqual(res.json(), { error: 'You are not authorized to do this action' });
      res = await t.request({ method: 'DELETE', url: `${base()}/contacts/${victim.id}`, token: admin.token });
      assert.equal(res.statusCode, 200);
      res = await t.request({ method: 'GET', url: `${base()}/contacts/${victim.id}`, token: admin.token });
      assert.equal(res.statusCode, 404);
    });

    it('refuses to delete an online contact', async () => {
      const online = (await create({ name: 'online person', email: 'online@example.com' })).json().payload.contact;
      markPresent(account.id, 'Contact', online.id);
      const res = await t.request({ method: 'DELETE', url: `${base()}/contacts/${online.id}`, token: admin.token });
      assert.equal(res.statusCode, 422);
      assert.equal(res.json().message, 'Online person is Online, please try again later');
      const shown = await t.request({ method: 'GET', url: `${base()}/contacts/${online.id}`, token: admin.token });
      assert.equal(shown.json().payload.availability_status, 'online');
      clearPresence();
    });
  });

  describe('labels and notes', () => {
    let contact: { id: number };
    before(async () => {
      contact = (await create({ email: 'labels@example.com' })).json().payload.contact;
    });

    it('replaces the label set on POST and lists it on GET', async () => {
      const url = `${base()}/contacts/${contact.id}/labels`;
      let res = await t.request({ method: 'POST', url, token: agent.token, payload: { labels: ['vip', 'billing'] } });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), { payload: ['vip', 'billing'] });
      res = await t.request({ method: 'POST', url, token: agent.token, payload: { labels: ['billing', 'support'] } });
      assert.deepEqual(res.json(), { payload: ['billing', 'support'] });
      res = await t.request({ method: 'GET', url, token: agent.token });
      assert.deepEqual(res.json(), { payload: ['billing', 'support'] });
      res = await t.request({ method: 'POST', url, token: agent.token, payload: { labels: [] } });
      assert.deepEqual(res.json(), { payload: [] });
    });

    it('reads labels as Rails permit(labels: []) reads them, as conversations do', async () => {
      const url = `${base()}/contacts/${contact.id}/labels`;
      const post = async (payload: object) => (await t.request({ method: 'POST', url, token: agent.token, payload })).json();
      assert.deepEqual(await post({ labels: [' a , b', 7, true, null, 'a'] }), { payload: ['a', 'b', '7', 'true'] });
      for (const labels of ['vip', 7, false, ['x', { y: 1 }], ['x', ['y']]]) {
        assert.deepEqual(await post({ labels: ['keep'] }), { payload: ['keep'] });
        assert.deepEqual(await post({ labels }), { payload: [] }, JSON.stringify(labels));
        assert.deepEqual((await t.request({ method: 'GET', url, token: agent.token })).json(), { payload: [] });
      }
    });

    it('creates, lists (newest first), updates and deletes notes', async () => {
      const url = `${base()}/contacts/${contact.id}/notes`;
      let res = await t.request({ method: 'POST', url, token: agent.token, payload: { note: { content: 'first' } } });
      assert.equal(res.statusCode, 200, res.body);
      const first = res.json();
      assert.deepEqual(Object.keys(first).sort(), ['account_id', 'contact_id', 'content', 'created_at', 'id', 'updated_at', 'user'].sort());
      assert.equal(first.content, 'first');
      assert.equal(first.contact_id, contact.id);
      assert.equal(first.account_id, account.id);
      assert.equal(first.user.id, agent.user.id);
      assert.equal(first.user.role, 'agent');
      assert.equal(typeof first.created_at, 'number');
      await new Promise((r) => setTimeout(r, 5));
      res = await t.request({ method: 'POST', url, token: agent.token, payload: { content: 'second' } });
      const second = res.json();
      res = await t.request({ method: 'GET', url, token: agent.token });
      assert.deepEqual(
        res.json().map((n: { id: number }) => n.id),
        [second.id, first.id],
      );
      res = await t.request({ method: 'PATCH', url: `${url}/${first.id}`, token: admin.token, payload: { note: { content: 'edited' } } });
      assert.equal(res.statusCode, 200);
      assert.equal(res.json().content, 'edited');
      res = await t.request({ method: 'POST', url, token: agent.token, payload: { note: { content: '' } } });
      assert.equal(res.statusCode, 422);
      assert.deepEqual(res.json(), { message: "Content can't be blank", attributes: ['content'] });
      res = await t.request({ method: 'POST', url, token: agent.token, payload: {} });
      assert.equal(res.statusCode, 422);
      res = await t.request({ method: 'DELETE', url: `${url}/${first.id}`, token: agent.token });
      assert.equal(res.statusCode, 200);
      res = await t.request({ method: 'GET', url: `${url}/${first.id}`, token: agent.token });
      assert.equal(res.statusCode, 404);
    });
  });

  describe('contact inboxes', () => {
    it('creates a contact inbox with a generated or given source_id; another account’s inbox is 404', async () => {
      const contact = (await create({ email: 'ci@example.com' })).json().payload.contact;
      const url = `${base()}/contacts/${contact.id}/contact_inboxes`;
      let res = await t.request({ method: 'POST', url, token: admin.token, payload: { inbox_id: inbox.id } });
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json();
      assert.deepEqual(Object.keys(body).sort(), ['inbox', 'source_id']);
      assert.match(body.source_id, /^[0-9a-f-]{36}$/);
      assert.equal(body.inbox.id, inbox.id);
      res = await t.request({ method: 'POST', url, token: admin.token, payload: { inbox_id: inbox.id, source_id: 'given-1' } });
      assert.equal(res.json().source_id, 'given-1');
      res = await t.request({ method: 'POST', url, token: admin.token, payload: { inbox_id: inbox.id, source_id: 'given-1' } });
      assert.equal(res.statusCode, 200, 'the same pair is returned, not duplicated');
      const rows = await t.ctx.db.selectFrom('contact_inboxes').select('id').where('contact_id', '=', contact.id).execute();
      assert.equal(rows.length, 2);
      const foreign = await createApiInbox(t, other.account.id);
      res = await t.request({ method: 'POST', url, token: admin.token, payload: { inbox_id: foreign.id } });
      assert.equal(res.statusCode, 404);
      // An agent who is not a member of the inbox may not attach contacts to it.
      res = await t.request({ method: 'POST', url, token: agent.token, payload: { inbox_id: inbox.id } });
      assert.equal(res.statusCode, 401);
      // Another contact cannot take a source id in use.
      const second = (await create({ email: 'ci2@example.com' })).json().payload.contact;
      res = await t.request({ method: 'POST', url: `${base()}/contacts/${second.id}/contact_inboxes`, token: admin.token, payload: { inbox_id: inbox.id, source_id: 'given-1' } });
      assert.equal(res.statusCode, 422);
    });

    it('lists contactable inboxes (API inboxes with the latest source id), filtered by inbox membership', async () => {
      const contact = (await create({ email: 'able@example.com', inbox_id: inbox.id, source_id: 'able-src' })).json().payload.contact;
      const second = await createApiInbox(t, account.id, 'Second API');
      let res = await t.request({ method: 'GET', url: `${base()}/contacts/${contact.id}/contactable_inboxes`, token: admin.token });
      assert.equal(res.statusCode, 200);
      const payload = res.json().payload as { inbox: { id: number }; source_id: string }[];
      const mine = payload.find((p) => p.inbox.id === inbox.id);
      assert.equal(mine?.source_id, 'able-src');
      assert.ok(payload.find((p) => p.inbox.id === second.id)?.source_id);
      assert.deepEqual(Object.keys(payload[0]).sort(), ['inbox', 'source_id']);
      await addInboxMember(t, second.id, agent.user.id);
      res = await t.request({ method: 'GET', url: `${base()}/contacts/${contact.id}/contactable_inboxes`, token: agent.token });
      assert.deepEqual(
        res.json().payload.map((p: { inbox: { id: number } }) => p.inbox.id),
        [second.id],
      );
    });
  });

  describe('POST /actions/contact_merge', () => {
    it('moves conversations, messages, contact inboxes and notes to the base and deletes the mergee', async () => {
      const baseContact = (
        await create({ name: 'Base', identifier: 'base_contact', email: 'old@old.com', custom_attributes: { val_test: 'old', val_empty_old: '' }, inbox_id: inbox.id })
      ).json().payload.contact;
      const mergee = (
        await create({ name: 'Mergee', email: 'new@new.com', phone_number: '+12212345', custom_attributes: { val_test: 'new', val_new: 'new', val_empty_new: '' }, inbox_id: inbox.id })
      ).json().payload.contact;
      const ciBase = await t.ctx.db.selectFrom('contact_inboxes').selectAll().where('contact_id', '=', baseContact.id).executeTakeFirstOrThrow();
      const ciMergee = await t.ctx.db.selectFrom('contact_inboxes').selectAll().where('contact_id', '=', mergee.id).executeTakeFirstOrThrow();
      const conversations = [];
      const messages = [];
      for (let i = 0; i < 2; i++) {
        conversations.push(await createConversation(t, { accountId: account.id, inboxId: inbox.id, contactId: baseContact.id, contactInboxId: ciBase.id }));
        const c = await createConversation(t, { accountId: account.id, inboxId: inbox.id, contactId: mergee.id, contactInboxId: ciMergee.id });
        conversations.push(c);
        messages.push(await createIncomingMessage(t, c, `m${i}`));
        await t.request({ method: 'POST', url: `${base()}/contacts/${mergee.id}/notes`, token: agent.token, payload: { content: `note ${i}` } });
      }
      await t.request({ method: 'POST', url: `${base()}/contacts/${mergee.id}/labels`, token: agent.token, payload: { labels: ['from-mergee'] } });

      const res = await t.request({
        method: 'POST',
        url: `${base()}/actions/contact_merge`,
        token: agent.token,
        payload: { base_contact_id: baseContact.id, mergee_contact_id: mergee.id },
      });
      assert.equal(res.statusCode, 200, res.body);
      const merged = res.json();
      assert.equal(merged.contact_inboxes, undefined, 'the merge answer is the bare contact partial');
      assert.equal(merged.id, baseContact.id);
      assert.equal(merged.identifier, 'base_contact');
      assert.equal(merged.email, 'old@old.com');
      assert.equal(merged.phone_number, '+12212345');
      assert.equal(merged.name, 'Base');
      assert.deepEqual(merged.custom_attributes, { val_test: 'old', val_new: 'new', val_empty_old: '', val_empty_new: '' });

      const convs = await t.ctx.db.selectFrom('conversations').select(['id', 'contact_id']).where('id', 'in', conversations.map((c) => c.id)).execute();
      assert.equal(convs.length, 4);
      assert.ok(convs.every((c) => c.contact_id === baseContact.id));
      const msgs = await t.ctx.db.selectFrom('messages').select(['id', 'sender_id']).where('id', 'in', messages.map((m) => m.id)).execute();
      assert.equal(msgs.length, 2);
      assert.ok(msgs.every((m) => m.sender_id === baseContact.id));
      const cis = await t.ctx.db.selectFrom('contact_inboxes').select('id').where('contact_id', '=', baseContact.id).execute();
      assert.equal(cis.length, 2);
      const notes = await t.request({ method: 'GET', url: `${base()}/contacts/${baseContact.id}/notes`, token: agent.token });
      assert.equal(notes.json().length, 2);
      const labels = await t.request({ method: 'GET', url: `${base()}/contacts/${baseContact.id}/labels`, token: agent.token });
      assert.deepEqual(labels.json().payload, ['from-mergee']);
      const gone = await t.request({ method: 'GET', url: `${base()}/contacts/${mergee.id}`, token: agent.token });
      assert.equal(gone.statusCode, 404);
    });

    it('404s a contact of another account and leaves both contacts alone', async () => {
      const mine = (await create({ email: 'mine@example.com' })).json().payload.contact;
      const theirs = (
        await t.request({ method: 'POST', url: `/api/v1/accounts/${other.account.id}/contacts`, token: other.admin.token, payload: { email: 'theirs@x.com' } })
      ).json().payload.contact;
      const res = await t.request({ method: 'POST', url: `${base()}/actions/contact_merge`, token: admin.token, payload: { base_contact_id: mine.id, mergee_contact_id: theirs.id } });
      assert.equal(res.statusCode, 404);
      const still = await t.ctx.db.selectFrom('contacts').select('id').where('id', 'in', [mine.id, theirs.id]).execute();
      assert.equal(still.length, 2);
    });
  });
});
