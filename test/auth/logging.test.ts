import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { buildApp } from '../../src/app.js';
import { startTestApp } from '../helpers.js';

describe('request logs', () => {
  it('are structured JSON and never contain tokens or passwords', async () => {
    // Reuse the helper to get a fresh database, then build a second app with a captured log.
    const t = await startTestApp();
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const { app } = await buildApp({ ...t.config, logLevel: 'debug' }, { logStream: stream, migrate: false });
    try {
      const u = await t.createUser({ password: 'Sup3rSecret!' });
      await app.inject({ method: 'GET', url: '/api/v1/profile', headers: { api_access_token: u.token } });
      const signIn = await app.inject({ method: 'POST', url: '/auth/sign_in', payload: { email: u.user.email, password: 'Sup3rSecret!' } });
      const session = String(signIn.headers['access-token']);
      await app.inject({ method: 'GET', url: '/api/v1/profile', headers: { 'access-token': session, client: String(signIn.headers.client), uid: u.user.email } });
      const log = lines.join('');
      assert.ok(lines.length > 0);
      for (const line of lines) JSON.parse(line);
      assert.ok(!log.includes(u.token), 'api token leaked');
      assert.ok(!log.includes('Sup3rSecret!'), 'password leaked');
      assert.ok(!log.includes(session), 'session token leaked');
    } finally {
      await app.close();
      await t.close();
    }
  });
});
