import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestApp } from '../../helpers.js';
import { createConversation, makeContact, makeInbox, makeTeam } from './fixtures.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One request over a real socket (keep-alive through `agent`), the body as bytes. */
function fetchRaw(port: number, agent: Agent, method: string, path: string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

// The list and the show answer with the rendered items' bytes written straight to the socket
// (lib/send-pieces.ts): over a real keep-alive connection the answer must be the same document
// inject sees, with its length, the headers hooks set (CORS), and no body for HEAD.
test('conversation list and show: rendered pieces over a real socket', async () => {
  const t = await startTestApp({ CORS_ORIGINS: 'https://app.example.com' });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const { account, admin } = await t.seedAccount();
    const inbox = await makeInbox(t, account.id, { members: [admin.user.id] });
    // A team the viewer belongs to makes the item show meta.team, and non-ASCII text counts bytes, not characters.
    const team = await makeTeam(t, account.id, 'équipe', [admin.user.id]);
    const displayIds: number[] = [];
    for (let i = 0; i < 3; i++) {
      const contact = await makeContact(t, account.id, { name: `Zoë ${i} 📨` });
      const created = await createConversation(t, account.id, admin, { inbox_id: inbox.id, contact_id: contact.id, team_id: team.id });
      displayIds.push(created.id);
    }
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = t.app.server.address() as AddressInfo;
    const headers = { api_access_token: admin.token, origin: 'https://app.example.com' };
    const listPath = `/api/v1/accounts/${account.id}/conversations`;

    for (const [path, shape] of [
      [listPath, (doc: any) => doc.data.payload.map((c: { id: number }) => c.id).sort()],
      [`${listPath}/${displayIds[1]}`, (doc: any) => doc.id],
    ] as const) {
      // Twice on one connection: the first answer ended where its length said.
      for (let round = 0; round < 2; round++) {
        const res = await fetchRaw(port, agent, 'GET', path, headers);
        assert.equal(res.status, 200);
        assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
        assert.equal(Number(res.headers['content-length']), res.body.length);
        assert.equal(res.headers['access-control-allow-origin'], 'https://app.example.com');
        const doc = JSON.parse(res.body.toString('utf8'));
        const injected = await t.request({ method: 'GET', url: path, headers });
        assert.deepEqual(doc, injected.json());
        assert.deepEqual(shape(doc), path === listPath ? [...displayIds].sort() : displayIds[1]);
      }
      const head = await fetchRaw(port, agent, 'HEAD', path, headers);
      assert.equal(head.status, 200);
      assert.equal(head.body.length, 0);
      const got = await fetchRaw(port, agent, 'GET', path, headers);
      assert.equal(Number(head.headers['content-length']), got.body.length);
    }
    // Still a plain JSON error where nothing is rendered.
    const missing = await fetchRaw(port, agent, 'GET', `${listPath}/999999`, headers);
    assert.equal(missing.status, 404);
  } finally {
    agent.destroy();
    await t.close();
  }
});
