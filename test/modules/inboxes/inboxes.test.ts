import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp, type TestUser } from '../../helpers.js';
import { now } from '../../../src/db/time.js';
import type { Row } from '../../../src/db/types.js';
import { findApiInboxByIdentifier, findInbox, inboxChannel, inboxMemberUserIds } from '../../../src/modules/inboxes/service.js';
import { presentInbox } from '../../../src/modules/inboxes/presenter.js';

/** _inbox.json.jbuilder's keys for an API inbox (administrator view), in order. */
const API_KEYS = [
  'id', 'avatar_url', 'channel_id', 'name', 'channel_type', 'greeting_enabled', 'greeting_message', 'working_hours_enabled',
  'enable_email_collect', 'csat_survey_enabled', 'csat_config', 'enable_auto_assignment', 'auto_assignment_config',
  'out_of_office_message', 'working_hours', 'timezone', 'callback_webhook_url', 'allow_messages_after_resolved',
  'lock_to_single_conversation', 'sender_name_type', 'business_name', 'allowed_domains', 'widget_color', 'website_url',
  'hmac_mandatory', 'welcome_title', 'welcome_tagline', 'web_widget_script', 'website_token', 'selected_feature_flags',
  'reply_time', 'messaging_service_sid', 'phone_number', 'hmac_token', 'webhook_url', 'inbox_identifier',
  'additional_attributes', 'provider',
];
const WIDGET_KEYS = [
  'id', 'avatar_url', 'channel_id', 'name', 'channel_type', 'greeting_enabled', 'greeting_message', 'working_hours_enabled',
  'enable_email_collect', 'csat_survey_enabled', 'csat_config', 'enable_auto_assignment', 'auto_assignment_config',
  'out_of_office_message', 'working_hours', 'timezone', 'callback_webhook_url', 'allow_messages_after_resolved',
  'lock_to_single_conversation', 'sender_name_type', 'business_name', 'allowed_domains', 'widget_color', 'website_url',
  'hmac_mandatory', 'welcome_title', 'welcome_tagline', 'web_widget_script', 'website_token', 'selected_feature_flags',
  'reply_time', 'hmac_token', 'pre_chat_form_enabled', 'pre_chat_form_options', 'continuity_via_email',
  'messaging_service_sid', 'phone_number', 'provider',
];
const AGENT_KEYS = ['id', 'account_id', 'availability_status', 'auto_offline', 'confirmed', 'email', 'provider', 'available_name', 'name', 'role', 'thumbnail'];
const DEFAULT_HOURS = [
  { day_of_week: 0, closed_all_day: true, open_hour: null, open_minutes: null, close_hour: null, close_minutes: null, open_all_day: false },
  ...[1, 2, 3, 4, 5].map((d) => ({ day_of_week: d, closed_all_day: false, open_hour: 9, open_minutes: 0, close_hour: 17, close_minutes: 0, open_all_day: false })),
  { day_of_week: 6, closed_all_day: true, open_hour: null, open_minutes: null, close_hour: null, close_minutes: null, open_all_day: false },
];
const UNAUTHORIZED = { error: 'You are not authorized to do this action' };
const NOT_FOUND = { error: 'Resource could not be found' };

describe('inboxes API', () => {
  let t: TestApp;
  let account: Row<'accounts'>;
  let admin: TestUser;
  let agent: TestUser;
  const base = () => `/api/v1/accounts/${account.id}`;

  before(async () => {
    t = await startTestApp();
    ({ account, admin, agent } = await t.seedAccount());
  });
  after(() => t.close());

  async function createApiInbox(name = 'API Inbox', channel: Record<string, unknown> = {}) {
    const res = await t.request({ method: 'POST', url: `${base()}/inboxes`, token: admin.token, payload: { name, channel: { type: 'api', ...channel } } });
    assert.equal(res.statusCode, 200, res.body);
    return res.json();
  }
  async function createWidgetInbox(name = 'Website') {
    const res = await t.request({
      method: 'POST',
      url: `${base()}/inboxes`,
      token: admin.token,
      payload: { name, channel: { type: 'web_widget', website_url: 'test.com' } },
    });
    assert.equal(res.statusCode, 200, res.body);
    return res.json();
  }
  async function counts() {
    const one = async (table: 'inboxes' | 'channel_api' | 'channel_web_widgets' | 'working_hours') =>
      Number((await t.ctx.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    return { inboxes: await one('inboxes'), api: await one('channel_api'), widgets: await one('channel_web_widgets'), hours: await one('working_hours') };
  }

  it('creates an API inbox with the exact _inbox shape', async () => {
    const body = await createApiInbox('API Inbox', { webhook_url: 'http://test.com', additional_attributes: { agent_reply_time_window: 24 } });
    assert.deepEqual(Object.keys(body), API_KEYS);
    assert.equal(typeof body.id, 'number');
    assert.equal(typeof body.channel_id, 'number');
    assert.equal(body.name, 'API Inbox');
    assert.equal(body.channel_type, 'Channel::Api');
    assert.equal(body.avatar_url, '');
    assert.equal(body.greeting_enabled, false);
    assert.equal(body.greeting_message, null);
    assert.equal(body.working_hours_enabled, false);
    assert.equal(body.enable_email_collect, true);
    assert.equal(body.csat_survey_enabled, false);
    assert.deepEqual(body.csat_config, {});
    assert.equal(body.enable_auto_assignment, true);
    assert.deepEqual(body.auto_assignment_config, {});
    assert.equal(body.out_of_office_message, null);
    assert.deepEqual(body.working_hours, DEFAULT_HOURS);
    assert.equal(body.timezone, 'UTC');
    assert.equal(body.callback_webhook_url, null);
    assert.equal(body.allow_messages_after_resolved, true);
    assert.equal(body.lock_to_single_conversation, false);
    assert.equal(body.sender_name_type, 'friendly');
    assert.equal(body.business_name, null);
    for (const k of ['allowed_domains', 'widget_color', 'website_url', 'welcome_title', 'welcome_tagline', 'web_widget_script', 'website_token', 'selected_feature_flags', 'reply_time', 'messaging_service_sid', 'phone_number', 'provider']) {
      assert.equal(body[k], null, k);
    }
    assert.equal(body.hmac_mandatory, false);
    assert.match(body.hmac_token, /^[A-Za-z0-9]{24}$/);
    assert.equal(body.webhook_url, 'http://test.com');
    assert.match(body.inbox_identifier, /^[A-Za-z0-9]{24}$/);
    assert.deepEqual(body.additional_attributes, { agent_reply_time_window: 24 });

    const found = await findApiInboxByIdentifier(t.ctx.db, body.inbox_identifier);
    assert.equal(found?.inbox.id, body.id);
    assert.equal(await findApiInboxByIdentifier(t.ctx.db, 'nope'), undefined);
    const row = await findInbox(t.ctx.db, account.id, body.id);
    const channel = await inboxChannel(t.ctx.db, row);
    assert.equal(channel?.id, body.channel_id);
    assert.deepEqual(await presentInbox(t.ctx.db, row, { administrator: true }), body);
  });

  it('creates a web widget inbox with widget defaults', async () => {
    const body = await createWidgetInbox('Website');
    assert.deepEqual(Object.keys(body), WIDGET_KEYS);
    assert.equal(body.channel_type, 'Channel::WebWidget');
    assert.equal(body.website_url, 'test.com');
    assert.equal(body.widget_color, '#1f93ff');
    assert.equal(body.allowed_domains, '');
    assert.equal(body.hmac_mandatory, false);
    assert.equal(body.welcome_title, null);
    assert.match(body.website_token, /^[A-Za-z0-9]{24}$/);
    assert.match(body.hmac_token, /^[A-Za-z0-9]{24}$/);
    assert.ok(body.web_widget_script.includes(`websiteToken: '${body.website_token}'`));
    assert.ok(body.web_widget_script.startsWith('\n    <script>\n'));
    assert.deepEqual(body.selected_feature_flags, ['attachments', 'emoji_picker', 'end_conversation']);
    assert.equal(body.reply_time, 'in_a_few_minutes');
    assert.equal(body.pre_chat_form_enabled, false);
    assert.equal(body.continuity_via_email, true);
    assert.equal(body.pre_chat_form_options.pre_chat_message, 'Share your queries or comments here.');
    assert.deepEqual(body.pre_chat_form_options.pre_chat_fields.map((f: { name: string }) => f.name), ['emailAddress', 'fullName', 'phoneNumber']);
    assert.equal(body.allow_messages_after_resolved, true);
    assert.deepEqual(body.working_hours, DEFAULT_HOURS);
  });

  it('accepts inbox settings on create', async () => {
    const res = await t.request({
      method: 'POST',
      url: `${base()}/inboxes`,
      token: admin.token,
      payload: {
        name: 'Configured',
        greeting_enabled: true,
        greeting_message: 'Hi!',
        enable_auto_assignment: false,
        auto_assignment_config: { max_assignment_limit: 5 },
        timezone: 'Asia/Kolkata',
        sender_name_type: 'professional',
        business_name: 'ACME',
        lock_to_single_conversation: true,
        channel: { type: 'web_widget', website_url: 'https://acme.test', widget_color: '#000000', welcome_title: 'Hello', reply_time: 'in_a_day', selected_feature_flags: ['attachments'] },
      },
    });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.equal(body.greeting_enabled, true);
    assert.equal(body.greeting_message, 'Hi!');
    assert.equal(body.enable_auto_assignment, false);
    assert.deepEqual(body.auto_assignment_config, { max_assignment_limit: 5 });
    assert.equal(body.timezone, 'Asia/Kolkata');
    assert.equal(body.sender_name_type, 'professional');
    assert.equal(body.business_name, 'ACME');
    assert.equal(body.lock_to_single_conversation, true);
    assert.equal(body.widget_color, '#000000');
    assert.equal(body.welcome_title, 'Hello');
    assert.equal(body.reply_time, 'in_a_day');
    assert.deepEqual(body.selected_feature_flags, ['attachments']);
  });

  it('rejects invalid inboxes with 422 and writes nothing', async () => {
    const cases: [Record<string, unknown>, Record<string, unknown>][] = [
      [{ name: '', channel: { type: 'api' } }, { message: "Name can't be blank", attributes: ['name'] }],
      [{ channel: { type: 'api' } }, { message: "Name can't be blank", attributes: ['name'] }],
      [{ name: 'W', channel: { type: 'web_widget' } }, { message: "Website url can't be blank", attributes: ['website_url'] }],
      [{ name: 'W', channel: { type: 'web_widget', website_url: 'x.com', widget_color: '' } }, { message: "Widget color can't be blank", attributes: ['widget_color'] }],
      [{ name: 'W', channel: { type: 'web_widget', website_url: 'x.com', reply_time: 'never' } }, { message: 'Reply time is not included in the list', attributes: ['reply_time'] }],
      [{ name: 'W', channel: { type: 'web_widget', website_url: 'x.com', selected_feature_flags: ['teleport'] } }, { message: 'Selected feature flags is not included in the list', attributes: ['selected_feature_flags'] }],
      [{ name: 'A', timezone: 'Mars/Olympus', channel: { type: 'api' } }, { message: 'Timezone is not included in the list', attributes: ['timezone'] }],
      [{ name: 'A', timezone: '+05:00', channel: { type: 'api' } }, { message: 'Timezone is not included in the list', attributes: ['timezone'] }],
      [{ name: 'A', sender_name_type: 'robot', channel: { type: 'api' } }, { message: 'Sender name type is not included in the list', attributes: ['sender_name_type'] }],
      [{ name: 'A', greeting_message: 'x'.repeat(10_001), channel: { type: 'api' } }, { message: 'Greeting message is too long (maximum is 10000 characters)', attributes: ['greeting_message'] }],
      [{ name: 'A', auto_assignment_config: { max_assignment_limit: 0 }, channel: { type: 'api' } }, { message: 'Auto assignment config max_assignment_limit must be greater than 0', attributes: ['auto_assignment_config'] }],
      [{ name: 'A', channel: { type: 'api', webhook_url: `http://x.test/${'a'.repeat(2050)}` } }, { message: 'Webhook url is too long (maximum is 2048 characters)', attributes: ['webhook_url'] }],
      [{ name: 'A', channel: { type: 'api', additional_attributes: { agent_reply_time_window: 0 } } }, { message: 'Agent reply time window agent_reply_time_window must be greater than 0', attributes: ['agent_reply_time_window'] }],
      [{ name: 'A', channel: { type: 'api', additional_attributes: 'nope' } }, { message: 'Additional attributes must be an object', attributes: ['additional_attributes'] }],
    ];
    const before = await counts();
    for (const [payload, expected] of cases) {
      const res = await t.request({ method: 'POST', url: `${base()}/inboxes`, token: admin.token, payload });
      assert.equal(res.statusCode, 422, JSON.stringify(payload).slice(0, 200));
      assert.deepEqual(res.json(), expected);
    }
    assert.deepEqual(await counts(), before);
  });

  it('rejects channel types Parley does not implement with 422 and writes nothing', async () => {
    const before = await counts();
    for (const type of ['email', 'whatsapp', 'sms', 'telegram', 'line']) {
      const res = await t.request({ method: 'POST', url: `${base()}/inboxes`, token: admin.token, payload: { name: 'X', channel: { type, email: 'a@b.c', phone_number: '+1' } } });
      assert.equal(res.statusCode, 422);
      assert.deepEqual(res.json(), { message: `Channel type '${type}' is not supported by this server (supported: api, web_widget)`, attributes: ['channel'] });
    }
    for (const payload of [{ name: 'X', channel: { type: 'facebook' } }, { name: 'X', channel: { type: 'twitter' } }, { name: 'X' }, { name: 'X', channel: {} }]) {
      const res = await t.request({ method: 'POST', url: `${base()}/inboxes`, token: admin.token, payload });
      assert.equal(res.statusCode, 422);
      assert.deepEqual(res.json(), { message: 'Channel must exist', attributes: ['channel'] });
    }
    assert.deepEqual(await counts(), before);
  });

  it('answers 400 for plainly wrong types', async () => {
    const res = await t.request({ method: 'POST', url: `${base()}/inboxes`, token: admin.token, payload: { name: 'X', greeting_enabled: { a: 1 }, channel: { type: 'api' } } });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error, 'Bad Request');
  });

  it('denies agents every manage action with 401 and writes nothing', async () => {
    const inbox = await createApiInbox('Managed');
    await t.request({ method: 'POST', url: `${base()}/inbox_members`, token: admin.token, payload: { inbox_id: inbox.id, user_ids: [agent.user.id] } });
    const before = await counts();
    const attempts = [
      { method: 'POST', url: `${base()}/inboxes`, payload: { name: 'x', channel: { type: 'api' } } },
      { method: 'PATCH', url: `${base()}/inboxes/${inbox.id}`, payload: { name: 'hacked' } },
      { method: 'DELETE', url: `${base()}/inboxes/${inbox.id}` },
      { method: 'POST', url: `${base()}/inboxes/${inbox.id}/set_agent_bot`, payload: { agent_bot: null } },
      { method: 'POST', url: `${base()}/inbox_members`, payload: { inbox_id: inbox.id, user_ids: [agent.user.id] } },
      { method: 'PATCH', url: `${base()}/inbox_members`, payload: { inbox_id: inbox.id, user_ids: [] } },
      { method: 'DELETE', url: `${base()}/inbox_members`, payload: { inbox_id: inbox.id, user_ids: [agent.user.id] } },
    ] as const;
    for (const a of attempts) {
      const res = await t.request({ ...a, token: agent.token });
      assert.equal(res.statusCode, 401, `${a.method} ${a.url}`);
      assert.deepEqual(res.json(), UNAUTHORIZED);
    }
    assert.deepEqual(await counts(), before);
    assert.equal((await findInbox(t.ctx.db, account.id, inbox.id)).name, 'Managed');
    assert.deepEqual(await inboxMemberUserIds(t.ctx.db, inbox.id), [agent.user.id]);
  });

  it('shows agents only the inboxes they are members of, without secrets', async () => {
    // A fresh account, so its inbox list holds only what this test creates.
    const s = await t.seedAccount();
    const url = `/api/v1/accounts/${s.account.id}`;
    const mk = async (name: string) =>
      (await t.request({ method: 'POST', url: `${url}/inboxes`, token: s.admin.token, payload: { name, channel: { type: 'api' } } })).json();
    const b = await mk('beta');
    const a = await mk('Alpha');
    await mk('charlie');
    let res = await t.request({ method: 'GET', url: `${url}/inboxes`, token: s.admin.token });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(Object.keys(res.json()), ['payload']);
    assert.deepEqual(res.json().payload.map((i: { name: string }) => i.name), ['Alpha', 'beta', 'charlie']);

    res = await t.request({ method: 'GET', url: `${url}/inboxes`, token: s.agent.token });
    assert.deepEqual(res.json(), { payload: [] });
    res = await t.request({ method: 'GET', url: `${url}/inboxes/${b.id}`, token: s.agent.token });
    assert.equal(res.statusCode, 401);
    assert.deepEqual(res.json(), UNAUTHORIZED);

    await t.request({ method: 'POST', url: `${url}/inbox_members`, token: s.admin.token, payload: { inbox_id: b.id, user_ids: [s.agent.user.id] } });
    res = await t.request({ method: 'GET', url: `${url}/inboxes`, token: s.agent.token });
    const list = res.json().payload;
    assert.deepEqual(list.map((i: { id: number }) => i.id), [b.id]);
    assert.equal('hmac_token' in list[0], false);
    assert.equal(list[0].inbox_identifier, b.inbox_identifier);
    res = await t.request({ method: 'GET', url: `${url}/inboxes/${b.id}`, token: s.agent.token });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(Object.keys(res.json()), API_KEYS.filter((k) => k !== 'hmac_token'));
    res = await t.request({ method: 'GET', url: `${url}/inboxes/${a.id}`, token: s.admin.token });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().hmac_token, a.hmac_token);
  });

  it('answers 404 for another account\'s inbox and for unknown ids', async () => {
    const other = await t.seedAccount();
    const foreign = (
      await t.request({ method: 'POST', url: `/api/v1/accounts/${other.account.id}/inboxes`, token: other.admin.token, payload: { name: 'Foreign', channel: { type: 'api' } } })
    ).json();
    const attempts = [
      { method: 'GET', url: `${base()}/inboxes/${foreign.id}` },
      { method: 'PATCH', url: `${base()}/inboxes/${foreign.id}`, payload: { name: 'stolen' } },
      { method: 'DELETE', url: `${base()}/inboxes/${foreign.id}` },
      { method: 'GET', url: `${base()}/inboxes/${foreign.id}/agent_bot` },
      { method: 'POST', url: `${base()}/inboxes/${foreign.id}/set_agent_bot`, payload: { agent_bot: null } },
      { method: 'GET', url: `${base()}/inboxes/${foreign.id}/assignable_agents` },
      { method: 'GET', url: `${base()}/inbox_members/${foreign.id}` },
      { method: 'POST', url: `${base()}/inbox_members`, payload: { inbox_id: foreign.id, user_ids: [admin.user.id] } },
      { method: 'PATCH', url: `${base()}/inbox_members`, payload: { inbox_id: foreign.id, user_ids: [] } },
      { method: 'DELETE', url: `${base()}/inbox_members`, payload: { inbox_id: foreign.id, user_ids: [] } },
      { method: 'GET', url: `${base()}/inboxes/999999` },
      { method: 'GET', url: `${base()}/inboxes/abc` },
      { method: 'POST', url: `${base()}/inbox_members`, payload: { inbox_id: null, user_ids: [admin.user.id] } },
    ] as const;
    for (const a of attempts) {
      const res = await t.request({ ...a, token: admin.token });
      assert.equal(res.statusCode, 404, `${a.method} ${a.url}`);
      assert.deepEqual(res.json(), NOT_FOUND);
    }
    assert.equal((await findInbox(t.ctx.db, other.account.id, foreign.id)).name, 'Foreign');
  });

  it('updates inbox settings, working hours and the API channel', async () => {
    const inbox = await createApiInbox('Before');
    const res = await t.request({
      method: 'PATCH',
      url: `${base()}/inboxes/${inbox.id}`,
      token: admin.token,
      payload: {
        name: 'new test inbox',
        enable_auto_assignment: false,
        allow_messages_after_resolved: false,
        working_hours_enabled: true,
        out_of_office_message: 'hello',
        working_hours: [
          { day_of_week: 0, open_hour: 9, open_minutes: 0, close_hour: 17, close_minutes: 0 },
          { day_of_week: 6, closed_all_day: false, open_all_day: true },
          { day_of_week: 1, closed_all_day: true },
        ],
        csat_survey_enabled: true,
        csat_config: { display_type: 'emoji', message: 'Rate us', survey_rules: { operator: 'contains', values: ['support'] } },
        channel: { webhook_url: 'webhook.test', hmac_mandatory: true, additional_attributes: { a: 1 }, selected_feature_flags: [] },
      },
    });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.deepEqual(Object.keys(body), API_KEYS);
    assert.equal(body.name, 'new test inbox');
    assert.equal(body.enable_auto_assignment, false);
    assert.equal(body.allow_messages_after_resolved, false);
    assert.equal(body.working_hours_enabled, true);
    assert.equal(body.out_of_office_message, 'hello');
    assert.deepEqual(body.working_hours[0], { day_of_week: 0, closed_all_day: true, open_hour: 9, open_minutes: 0, close_hour: 17, close_minutes: 0, open_all_day: false });
    assert.deepEqual(body.working_hours[1], { day_of_week: 1, closed_all_day: true, open_hour: 9, open_minutes: 0, close_hour: 17, close_minutes: 0, open_all_day: false });
    assert.deepEqual(body.working_hours[6], { day_of_week: 6, closed_all_day: false, open_hour: 0, open_minutes: 0, close_hour: 23, close_minutes: 59, open_all_day: true });
    assert.equal(body.csat_survey_enabled, true);
    assert.deepEqual(body.csat_config, {
      display_type: 'emoji',
      message: 'Rate us',
      survey_rules: { operator: 'contains', values: ['support'] },
      button_text: 'Please rate us',
      language: 'en',
    });
    assert.equal(body.webhook_url, 'webhook.test');
    assert.equal(body.hmac_mandatory, true);
    assert.deepEqual(body.additional_attributes, { a: 1 });
    assert.equal(body.inbox_identifier, inbox.inbox_identifier);
    assert.equal(body.hmac_token, inbox.hmac_token);

    const shown = (await t.request({ method: 'GET', url: `${base()}/inboxes/${inbox.id}`, token: admin.token })).json();
    assert.deepEqual(shown, body);
  });

  it('updates a web widget channel', async () => {
    const inbox = await createWidgetInbox();
    const res = await t.request({
      method: 'PATCH',
      url: `${base()}/inboxes/${inbox.id}`,
      token: admin.token,
      payload: {
        channel: {
          website_url: 'https://new.test',
          widget_color: '#ff0000',
          welcome_tagline: 'We reply fast',
          reply_time: 'in_a_few_hours',
          pre_chat_form_enabled: true,
          pre_chat_form_options: { pre_chat_message: 'Tell us', pre_chat_fields: [{ name: 'emailAddress', type: 'email', enabled: true, required: true }] },
          continuity_via_email: false,
          allowed_domains: '*.test',
          selected_feature_flags: ['emoji_picker', 'use_inbox_avatar_for_bot'],
        },
      },
    });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.deepEqual(Object.keys(body), WIDGET_KEYS);
    assert.equal(body.website_url, 'https://new.test');
    assert.equal(body.widget_color, '#ff0000');
    assert.equal(body.welcome_tagline, 'We reply fast');
    assert.equal(body.reply_time, 'in_a_few_hours');
    assert.equal(body.pre_chat_form_enabled, true);
    assert.deepEqual(body.pre_chat_form_options, { pre_chat_message: 'Tell us', pre_chat_fields: [{ name: 'emailAddress', type: 'email', enabled: true, required: true }] });
    assert.equal(body.continuity_via_email, false);
    assert.equal(body.allowed_domains, '*.test');
    assert.deepEqual(body.selected_feature_flags, ['emoji_picker', 'use_inbox_avatar_for_bot']);
    assert.equal(body.website_token, inbox.website_token);
    assert.equal(body.name, 'Website');
  });

  it('rejects invalid updates with 422 and changes nothing', async () => {
    const inbox = await createWidgetInbox('Stable');
    const cases: [Record<string, unknown>, Record<string, unknown>][] = [
      [{ name: '' }, { message: "Name can't be blank", attributes: ['name'] }],
      [{ timezone: 'Nowhere/Land' }, { message: 'Timezone is not included in the list', attributes: ['timezone'] }],
      [{ channel: { website_url: '' } }, { message: "Website url can't be blank", attributes: ['website_url'] }],
      [
        { name: 'Changed', working_hours: [{ day_of_week: 1, open_hour: 18, open_minutes: 0, close_hour: 9, close_minutes: 0 }] },
        { message: 'Close hour Closing time cannot be before opening time', attributes: ['close_hour'] },
      ],
      [{ working_hours: [{ day_of_week: 2, open_hour: 25 }] }, { message: 'Open hour is not included in the list', attributes: ['open_hour'] }],
      [
        { working_hours: [{ day_of_week: 3, open_all_day: true, closed_all_day: true }] },
        { message: 'open_all_day and closed_all_day cannot be true at the same time', attributes: ['base'] },
      ],
      [{ working_hours: [{ day_of_week: 9, closed_all_day: true }] }, { message: 'Day of week is not included in the list', attributes: ['day_of_week'] }],
    ];
    for (const [payload, expected] of cases) {
      const res = await t.request({ method: 'PATCH', url: `${base()}/inboxes/${inbox.id}`, token: admin.token, payload });
      assert.equal(res.statusCode, 422, JSON.stringify(payload));
      assert.deepEqual(res.json(), expected);
    }
    const shown = (await t.request({ method: 'GET', url: `${base()}/inboxes/${inbox.id}`, token: admin.token })).json();
    assert.equal(shown.name, 'Stable');
    assert.equal(shown.website_url, 'test.com');
    assert.deepEqual(shown.working_hours, DEFAULT_HOURS);
  });

  it('deletes an inbox with its channel, members, hours, contact inboxes and conversations', async () => {
    const inbox = await createApiInbox('Doomed');
    const keep = await createApiInbox('Kept');
    await t.request({ method: 'POST', url: `${base()}/inbox_members`, token: admin.token, payload: { inbox_id: inbox.id, user_ids: [agent.user.id] } });
    const ts = now();
    const contact = await t.ctx.db.insertInto('contacts').values({ account_id: account.id, name: 'C', created_at: ts, updated_at: ts }).returning('id').executeTakeFirstOrThrow();
    const ci = await t.ctx.db
      .insertInto('contact_inboxes')
      .values({ contact_id: contact.id, inbox_id: inbox.id, source_id: 'src-1', pubsub_token: `pub-${ts}`, created_at: ts, updated_at: ts })
      .returning('id')
      .executeTakeFirstOrThrow();
    const conv = await t.ctx.db
      .insertInto('conversations')
      .values({ account_id: account.id, inbox_id: inbox.id, display_id: 9001, uuid: `uuid-${ts}`, contact_id: contact.id, contact_inbox_id: ci.id, last_activity_at: ts, created_at: ts, updated_at: ts })
      .returning('id')
      .executeTakeFirstOrThrow();
    await t.ctx.db
      .insertInto('messages')
      .values({ account_id: account.id, inbox_id: inbox.id, conversation_id: conv.id, content: 'hi', message_type: 0, created_at: ts, updated_at: ts })
      .execute();

    const res = await t.request({ method: 'DELETE', url: `${base()}/inboxes/${inbox.id}`, token: admin.token });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { message: 'Your inbox deletion request will be processed in some time.' });

    const db = t.ctx.db;
    assert.equal(await db.selectFrom('inboxes').select('id').where('id', '=', inbox.id).executeTakeFirst(), undefined);
    assert.equal(await db.selectFrom('channel_api').select('id').where('id', '=', inbox.channel_id).executeTakeFirst(), undefined);
    assert.deepEqual(await db.selectFrom('inbox_members').select('id').where('inbox_id', '=', inbox.id).execute(), []);
    assert.deepEqual(await db.selectFrom('working_hours').select('id').where('inbox_id', '=', inbox.id).execute(), []);
    assert.deepEqual(await db.selectFrom('contact_inboxes').select('id').where('inbox_id', '=', inbox.id).execute(), []);
    assert.deepEqual(await db.selectFrom('conversations').select('id').where('inbox_id', '=', inbox.id).execute(), []);
    assert.deepEqual(await db.selectFrom('messages').select('id').where('inbox_id', '=', inbox.id).execute(), []);
    assert.ok(await db.selectFrom('contacts').select('id').where('id', '=', contact.id).executeTakeFirst(), 'the contact stays');
    assert.equal((await t.request({ method: 'GET', url: `${base()}/inboxes/${keep.id}`, token: admin.token })).statusCode, 200);
    assert.equal((await t.request({ method: 'GET', url: `${base()}/inboxes/${inbox.id}`, token: admin.token })).statusCode, 404);
  });

  it('reads, sets and removes the inbox agent bot', async () => {
    const inbox = await createApiInbox('Botted');
    await t.request({ method: 'POST', url: `${base()}/inbox_members`, token: admin.token, payload: { inbox_id: inbox.id, user_ids: [agent.user.id] } });
    const ts = now();
    const bot = await t.ctx.db
      .insertInto('agent_bots')
      .values({ name: 'Helper', description: 'helps', outgoing_url: 'https://bot.test', account_id: account.id, created_at: ts, updated_at: ts })
      .returning('id')
      .executeTakeFirstOrThrow();
    const other = await t.createAccount();
    const foreignBot = await t.ctx.db
      .insertInto('agent_bots')
      .values({ name: 'Foreign', outgoing_url: 'https://f.test', account_id: other.id, created_at: ts, updated_at: ts })
      .returning('id')
      .executeTakeFirstOrThrow();

    let res = await t.request({ method: 'GET', url: `${base()}/inboxes/${inbox.id}/agent_bot`, token: agent.token });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { agent_bot: {} });

    res = await t.request({ method: 'POST', url: `${base()}/inboxes/${inbox.id}/set_agent_bot`, token: admin.token, payload: { agent_bot: bot.id } });
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, '');
    res = await t.request({ method: 'GET', url: `${base()}/inboxes/${inbox.id}/agent_bot`, token: agent.token });
    const shown = res.json().agent_bot;
    assert.equal(shown.id, bot.id);
    assert.equal(shown.name, 'Helper');
    assert.equal(shown.description, 'helps');
    assert.equal(shown.outgoing_url, 'https://bot.test');
    assert.equal(shown.bot_type, 'webhook');
    assert.equal(shown.account_id, account.id);
    assert.equal(shown.system_bot, false);
    assert.equal('access_token' in shown, false, 'agents do not see the bot token');

    for (const agentBot of [0, 999999, foreignBot.id, 'abc']) {
      res = await t.request({ method: 'POST', url: `${base()}/inboxes/${inbox.id}/set_agent_bot`, token: admin.token, payload: { agent_bot: agentBot } });
      assert.equal(res.statusCode, 404, String(agentBot));
      assert.deepEqual(res.json(), NOT_FOUND);
    }
    res = await t.request({ method: 'GET', url: `${base()}/inboxes/${inbox.id}/agent_bot`, token: admin.token });
    assert.equal(res.json().agent_bot.id, bot.id);

    res = await t.request({ method: 'POST', url: `${base()}/inboxes/${inbox.id}/set_agent_bot`, token: admin.token, payload: { agent_bot: null } });
    assert.equal(res.statusCode, 200);
    res = await t.request({ method: 'GET', url: `${base()}/inboxes/${inbox.id}/agent_bot`, token: admin.token });
    assert.deepEqual(res.json(), { agent_bot: {} });
    assert.deepEqual(await t.ctx.db.selectFrom('agent_bot_inboxes').select('id').where('inbox_id', '=', inbox.id).execute(), []);
  });

  it('lists assignable agents: members plus administrators', async () => {
    const inbox = await createApiInbox('Assignable');
    await t.request({ method: 'POST', url: `${base()}/inbox_members`, token: admin.token, payload: { inbox_id: inbox.id, user_ids: [agent.user.id] } });
    const res = await t.request({ method: 'GET', url: `${base()}/inboxes/${inbox.id}/assignable_agents`, token: admin.token });
    assert.equal(res.statusCode, 200);
    const payload = res.json().payload;
    assert.deepEqual(payload.map((a: { id: number }) => a.id), [agent.user.id, admin.user.id]);
    assert.deepEqual(payload.map((a: { role: string }) => a.role), ['agent', 'administrator']);
    assert.deepEqual(Object.keys(payload[0]), AGENT_KEYS);
  });
});

describe('inbox members API', () => {
  let t: TestApp;
  let account: Row<'accounts'>;
  let admin: TestUser;
  let agent: TestUser;
  let inboxId: number;
  const base = () => `/api/v1/accounts/${account.id}`;

  before(async () => {
    t = await startTestApp();
    ({ account, admin, agent } = await t.seedAccount());
    const res = await t.request({ method: 'POST', url: `${base()}/inboxes`, token: admin.token, payload: { name: 'Members', channel: { type: 'api' } } });
    inboxId = res.json().id;
  });
  after(() => t.close());

  it('adds, replaces and removes members', async () => {
    const second = await t.createUser({ accountId: account.id, role: 'agent' });
    const third = await t.createUser({ accountId: account.id, role: 'agent' });

    let res = await t.request({ method: 'GET', url: `${base()}/inbox_members/${inboxId}`, token: admin.token });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { payload: [] });

    res = await t.request({ method: 'POST', url: `${base()}/inbox_members`, token: admin.token, payload: { inbox_id: inboxId, user_ids: [agent.user.id] } });
    assert.equal(res.statusCode, 200);
    const [shown] = res.json().payload;
    assert.deepEqual(Object.keys(shown), AGENT_KEYS);
    assert.equal(shown.id, agent.user.id);
    assert.equal(shown.account_id, account.id);
    assert.equal(shown.email, agent.user.email);
    assert.equal(shown.role, 'agent');
    assert.equal(shown.confirmed, true);
    assert.equal(typeof shown.availability_status, 'string');

    // Adding again is harmless; string ids are read as Rails would.
    res = await t.request({ method: 'POST', url: `${base()}/inbox_members`, token: admin.token, payload: { inbox_id: String(inboxId), user_ids: [agent.user.id, String(second.user.id)] } });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json().payload.map((a: { id: number }) => a.id), [agent.user.id, second.user.id]);

    res = await t.request({ method: 'PATCH', url: `${base()}/inbox_members`, token: admin.token, payload: { inbox_id: inboxId, user_ids: [third.user.id, second.user.id] } });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json().payload.map((a: { id: number }) => a.id), [second.user.id, third.user.id]);
    assert.deepEqual(await inboxMemberUserIds(t.ctx.db, inboxId), [second.user.id, third.user.id]);

    res = await t.request({ method: 'DELETE', url: `${base()}/inbox_members`, token: admin.token, payload: { inbox_id: inboxId, user_ids: [second.user.id] } });
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, '');
    assert.deepEqual(await inboxMemberUserIds(t.ctx.db, inboxId), [third.user.id]);

    res = await t.request({ method: 'PATCH', url: `${base()}/inbox_members`, token: admin.token, payload: { inbox_id: inboxId, user_ids: [] } });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { payload: [] });
  });

  it('rejects users that do not exist or are not in the account with 422, writing nothing', async () => {
    const outsider = await t.createUser();
    const otherAccount = await t.seedAccount();
    await t.request({ method: 'PATCH', url: `${base()}/inbox_members`, token: admin.token, payload: { inbox_id: inboxId, user_ids: [admin.user.id] } });
    for (const method of ['POST', 'PATCH'] as const) {
      for (const ids of [['invalid'], [999999], [outsider.user.id], [agent.user.id, otherAccount.agent.user.id], [null]]) {
        const res = await t.request({ method, url: `${base()}/inbox_members`, token: admin.token, payload: { inbox_id: inboxId, user_ids: ids } });
        assert.equal(res.statusCode, 422, `${method} ${JSON.stringify(ids)}`);
        assert.deepEqual(res.json(), { message: 'User must exist', attributes: ['user'] });
      }
    }
    assert.deepEqual(await inboxMemberUserIds(t.ctx.db, inboxId), [admin.user.id]);
  });

  it('answers 404 when removing users that are not members', async () => {
    await t.request({ method: 'PATCH', url: `${base()}/inbox_members`, token: admin.token, payload: { inbox_id: inboxId, user_ids: [admin.user.id] } });
    for (const ids of [['invalid'], [agent.user.id], [admin.user.id, agent.user.id]]) {
      const res = await t.request({ method: 'DELETE', url: `${base()}/inbox_members`, token: admin.token, payload: { inbox_id: inboxId, user_ids: ids } });
      assert.equal(res.statusCode, 404);
      assert.deepEqual(res.json(), NOT_FOUND);
    }
    assert.deepEqual(await inboxMemberUserIds(t.ctx.db, inboxId), [admin.user.id]);
  });

  it('lets member agents read the member list and denies the others', async () => {
    let res = await t.request({ method: 'GET', url: `${base()}/inbox_members/${inboxId}`, token: agent.token });
    assert.equal(res.statusCode, 401);
    assert.deepEqual(res.json(), UNAUTHORIZED);
    await t.request({ method: 'PATCH', url: `${base()}/inbox_members`, token: admin.token, payload: { inbox_id: inboxId, user_ids: [admin.user.id, agent.user.id] } });
    res = await t.request({ method: 'GET', url: `${base()}/inbox_members/${inboxId}`, token: agent.token });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json().payload.map((a: { id: number }) => a.id), [admin.user.id, agent.user.id]);
  });

  it('requires authentication', async () => {
    const res = await t.request({ method: 'GET', url: `${base()}/inbox_members/${inboxId}` });
    assert.equal(res.statusCode, 401);
    const list = await t.request({ method: 'GET', url: `${base()}/inboxes` });
    assert.equal(list.statusCode, 401);
  });
});
