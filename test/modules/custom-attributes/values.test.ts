import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../../helpers.js';
import { validateCustomAttributeValues } from '../../../src/modules/custom-attributes/service.js';
import type { HttpError } from '../../../src/lib/errors.js';

describe('validateCustomAttributeValues', () => {
  let t: TestApp;
  let accountId: number;
  before(async () => {
    t = await startTestApp();
    const seed = await t.seedAccount();
    accountId = seed.account.id;
    const define = async (payload: Record<string, unknown>) => {
      const res = await t.request({
        method: 'POST',
        url: `/api/v1/accounts/${accountId}/custom_attribute_definitions`,
        token: seed.admin.token,
        payload: { attribute_model: 'contact_attribute', attribute_display_name: String(payload.attribute_key), ...payload },
      });
      assert.equal(res.statusCode, 200, res.body);
    };
    await define({ attribute_key: 'nickname', attribute_display_type: 'text' });
    await define({ attribute_key: 'code', attribute_display_type: 'text', regex_pattern: '/^[a-z]{3}-\\d+$/i', regex_cue: 'Like ABC-123' });
    await define({ attribute_key: 'seats', attribute_display_type: 'number' });
    await define({ attribute_key: 'mrr', attribute_display_type: 'currency' });
    await define({ attribute_key: 'discount', attribute_display_type: 'percent' });
    await define({ attribute_key: 'homepage', attribute_display_type: 'link' });
    await define({ attribute_key: 'renewal', attribute_display_type: 'date' });
    await define({ attribute_key: 'plan', attribute_display_type: 'list', attribute_values: ['free', 'pro'] });
    await define({ attribute_key: 'vip', attribute_display_type: 'checkbox' });
    // Same key on the other model: a different rule must not leak across models.
    await define({ attribute_key: 'seats', attribute_display_type: 'text', attribute_model: 'conversation_attribute' });
  });
  after(() => t.close());

  const check = (values: Record<string, unknown>, model: 'contact_attribute' | 'conversation_attribute' = 'contact_attribute') =>
    validateCustomAttributeValues(t.ctx.db, accountId, model, values);

  async function rejects(values: Record<string, unknown>, message: string, model?: 'contact_attribute' | 'conversation_attribute') {
    await assert.rejects(check(values, model), (error: HttpError) => {
      assert.equal(error.statusCode, 422);
      assert.deepEqual(error.body, { message, attributes: ['custom_attributes'] });
      return true;
    });
  }

  it('accepts values that fit their definitions, blanks, and keys without a definition', async () => {
    await check({
      nickname: 'Bob', code: 'abc-42', seats: 12, mrr: '99.50', discount: 12.5, homepage: 'https://example.com/x',
      renewal: '2025-03-01', plan: 'pro', vip: true, undefined_key: { anything: [1, 2] },
    });
    await check({ seats: '-3', mrr: 0, discount: '1e2', vip: false, renewal: '2025-03-01T10:00:00Z', homepage: 'http://a.b' });
    await check({ nickname: null, code: '', seats: null, homepage: '', renewal: null, plan: null, vip: null });
    await check({});
    await check({ seats: 'many' }, 'conversation_attribute');
  });

  it('text: rejects non-scalar values and regex mismatches (with the cue)', async () => {
    await rejects({ nickname: { a: 1 } }, 'Custom attributes nickname must be text');
    await rejects({ code: 'nope' }, 'Custom attributes code is invalid (Like ABC-123)');
  });

  it('number, currency, percent: must be numeric', async () => {
    await rejects({ seats: 'many' }, 'Custom attributes seats must be a number');
    await rejects({ mrr: '12abc' }, 'Custom attributes mrr must be a number');
    await rejects({ discount: true }, 'Custom attributes discount must be a number');
  });

  it('link: must be an http(s) URL', async () => {
    await rejects({ homepage: 'not a url' }, 'Custom attributes homepage must be a valid URL');
    await rejects({ homepage: 'javascript:alert(1)' }, 'Custom attributes homepage must be a valid URL');
    await rejects({ homepage: 42 }, 'Custom attributes homepage must be a valid URL');
  });

  it('date: must parse', async () => {
    await rejects({ renewal: 'someday' }, 'Custom attributes renewal must be a valid date');
    await rejects({ renewal: 20250301 }, 'Custom attributes renewal must be a valid date');
  });

  it('list: must be one of attribute_values', async () => {
    await rejects({ plan: 'enterprise' }, 'Custom attributes plan is not included in the list');
    await rejects({ plan: ['pro'] }, 'Custom attributes plan is not included in the list');
  });

  it('checkbox: must be a boolean', async () => {
    await check({ vip: 'true' });
    await rejects({ vip: 'yes' }, 'Custom attributes vip must be true or false');
    await rejects({ vip: 1 }, 'Custom attributes vip must be true or false');
  });

  it('reports every offending key at once, in the order given', async () => {
    await rejects({ vip: 'maybe', seats: 'x', nickname: 'fine' }, 'Custom attributes vip must be true or false, Custom attributes seats must be a number');
  });
});
