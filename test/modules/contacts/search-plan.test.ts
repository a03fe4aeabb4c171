import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { ENGINE, startTestApp } from '../../helpers.js';

/**
 * PostgreSQL reads a search page with `strpos` when enough rows match (the table has been
 * analysed and the walk in id order is short; contacts/finder.ts searchPage) and with LIKE
 * otherwise. Both must find the same contacts, needles with LIKE's special characters included.
 */
const NAMES = [
  ...Array.from({ length: 40 }, (_, i) => `Common Person ${String(i).padStart(2, '0')}`),
  '100% Sure',
  'Under_score Smith',
  'Back\\slash Jones',
  'Rare Bird',
  'Percent 100 Plain',
];
const NEEDLES = ['common', 'person 1', '0%', '%', '_', 'r_s', 'h\\s', '\\', 'rare', 'nobody', 'o'];

async function searches(analyse: boolean): Promise<Record<string, { count: number; pages: string[][] }>> {
  const t = await startTestApp();
  try {
    const { account, admin } = await t.seedAccount();
    for (const [i, name] of NAMES.entries()) {
      const res = await t.request({ method: 'POST', url: `/api/v1/accounts/${account.id}/contacts`, token: admin.token, payload: { name, email: `c${i}@example.com` } });
      assert.equal(res.statusCode, 200, res.body);
    }
    if (analyse && ENGINE === 'postgres') await sql`ANALYZE contacts_search`.execute(t.ctx.db);
    const out: Record<string, { count: number; pages: string[][] }> = {};
    for (const q of NEEDLES) {
      const pages: string[][] = [];
      let count = 0;
      for (let page = 1; page <= 4; page++) {
        const res = await t.request({ method: 'GET', url: `/api/v1/accounts/${account.id}/contacts/search?q=${encodeURIComponent(q)}&page=${page}`, token: admin.token });
        assert.equal(res.statusCode, 200, res.body);
        const body = res.json<{ meta: { count: number }; payload: { name: string }[] }>();
        count = body.meta.count;
        pages.push(body.payload.map((c) => c.name));
      }
      out[q] = { count, pages };
    }
    return out;
  } finally {
    await t.close();
  }
}

test(`contact search: the page found by strpos and by LIKE is the same, special characters taken literally (${ENGINE})`, async () => {
  const [plain, analysed] = [await searches(false), await searches(true)];
  assert.deepEqual(analysed, plain);
  for (const q of NEEDLES) {
    const expected = NAMES.map((name, i) => ({ name, text: `${name} c${i}@example.com`.toLowerCase() }))
      .filter((c) => c.text.includes(q.toLowerCase()))
      .map((c) => c.name);
    assert.equal(plain[q].count, expected.length, q);
    assert.deepEqual(plain[q].pages.flat(), expected.slice(0, 60), q);
  }
});
