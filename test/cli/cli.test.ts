import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { ENGINE, startTestApp, type TestApp } from '../helpers.js';

const run = promisify(execFile);
const BIN = join(import.meta.dirname, '..', '..', 'bin', 'parley.mjs');

describe('parley CLI', () => {
  let t: TestApp;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    // The server (this test app) stays open on the same database while the CLI runs.
    t = await startTestApp();
    env =
      ENGINE === 'postgres'
        ? { ...process.env, PARLEY_PG_SCHEMA: t.config.pgSchema }
        : { ...process.env, DATABASE_URL: `sqlite:${t.config.databaseUrl}` };
  });
  after(() => t.close());

  const parley = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env });
      return { code: 0, stdout, stderr };
    } catch (e) {
      const err = e as { code: number; stdout: string; stderr: string };
      return { code: err.code, stdout: err.stdout, stderr: err.stderr };
    }
  };

  it('round-trips: platform app, account, user; the printed tokens work against the running server', async () => {
    assert.equal((await parley('migrate')).code, 0);
    const appOut = await parley('create-platform-app', '--name', 'Ops', '--json');
    assert.equal(appOut.code, 0, appOut.stderr);
    const platform = JSON.parse(appOut.stdout);
    assert.equal(typeof platform.access_token, 'string');
    const acctOut = JSON.parse((await parley('create-account', '--name', 'CLI Co', '--json')).stdout);
    assert.equal(acctOut.name, 'CLI Co');
    const userOut = await parley('create-user', '--email', 'cli@example.com', '--password', 'Password1!', '--name', 'Cli', '--account', String(acctOut.id), '--role', 'administrator', '--json');
    assert.equal(userOut.code, 0, userOut.stderr);
    const user = JSON.parse(userOut.stdout);
    assert.equal(typeof user.id, 'number');
    const profile = await t.request({ method: 'GET', url: '/api/v1/profile', token: user.access_token });
    assert.equal(profile.statusCode, 200);
    assert.equal(profile.json().accounts[0].role, 'administrator');

    let res = await t.request({ method: 'GET', url: `/platform/api/v1/accounts/${acctOut.id}`, token: platform.access_token });
    assert.equal(res.statusCode, 401);
    assert.equal((await parley('grant', '--platform-app', String(platform.id), '--account', String(acctOut.id))).code, 0);
    res = await t.request({ method: 'GET', url: `/platform/api/v1/accounts/${acctOut.id}`, token: platform.access_token });
    assert.equal(res.statusCode, 200);

    const text = await parley('create-account', '--name', 'Plain');
    assert.match(text.stdout, /^Account \d+ "Plain"/);
  });

  it('prints one clear line and exits non-zero on errors', async () => {
    const cases = [
      ['create-user', '--email', 'bad', '--password', 'Password1!', '--name', 'X'],
      ['create-user', '--email', 'y@example.com', '--password', 'Password1!', '--name', 'Y', '--account', '999999'],
      ['create-account'],
      ['frobnicate'],
      ['create-account', '--bogus'],
    ];
    for (const args of cases) {
      const out = await parley(...args);
      assert.notEqual(out.code, 0, args.join(' '));
      assert.match(out.stderr, /^parley: .+\n$/, args.join(' '));
    }
    const dup1 = await parley('create-user', '--email', 'dup@example.com', '--password', 'Password1!', '--name', 'D');
    assert.equal(dup1.code, 0);
    const dup2 = await parley('create-user', '--email', 'dup@example.com', '--password', 'Password1!', '--name', 'D');
    assert.equal(dup2.stderr, 'parley: Email has already been taken\n');
  });
});

describe('npm start on an empty database', { skip: ENGINE === 'postgres' ? 'covered on SQLite (the embedded default)' : false }, () => {
  it('creates the first administrator, prints how to log in, serves, and shuts down on SIGTERM', async () => {
    const t = await startTestApp();
    const dbFile = join(t.config.storageDir, '..', 'fresh.sqlite3');
    await t.close();
    const port = 20000 + Math.floor(Math.random() * 20000);
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '..', '..', 'src', 'main.ts'), 'start'], {
      env: { ...process.env, DATABASE_URL: `sqlite:${dbFile}`, PORT: String(port), HOST: '127.0.0.1', PARLEY_ADMIN_EMAIL: 'boss@example.com', PARLEY_ADMIN_PASSWORD: 'Password1!', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      let healthy = false;
      for (let i = 0; i < 100 && !healthy; i++) {
        await new Promise((r) => setTimeout(r, 100));
        healthy = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false);
      }
      assert.ok(healthy, `server never became healthy: ${out}`);
      assert.match(out, /boss@example\.com/);
      const res = await fetch(`http://127.0.0.1:${port}/auth/sign_in`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'boss@example.com', password: 'Password1!' }),
      });
      assert.equal(res.status, 200);
      const body = (await res.json()) as { data: { accounts: { role: string }[] } };
      assert.equal(body.data.accounts[0].role, 'administrator');
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0);
  });
});
