import type { TestApp } from '../helpers.js';
import type { World } from '../security/world.js';

/** One representative successful request for a swagger operation. */
export interface Request {
  url: string;
  payload?: Record<string, unknown>;
  /** Which credential to send; account admin of A by default. */
  as?: 'admin' | 'agent' | 'platform';
}

export interface Env {
  t: TestApp;
  w: World;
  /** `/api/v1/accounts/<A>` */
  base: string;
  ids: Record<string, number>;
  /** Calls the API as A's admin (or the platform app for /platform URLs) and returns the JSON; throws unless 2xx. */
  api(method: string, url: string, payload?: Record<string, unknown>): Promise<Record<string, unknown>>;
  unique(): string;
}

type Scenario = (env: Env) => Promise<Request> | Request;

let seq = 0;
export const uniqueName = () => `c${Date.now().toString(36)}${++seq}`;

/** A platform-created account, user and agent bot (platform apps only reach what they created). */
async function platformAccount(env: Env): Promise<number> {
  env.ids.platformAccount ??= Number((await env.api('POST', '/platform/api/v1/accounts', { name: `Platform ${env.unique()}` })).id);
  return env.ids.platformAccount;
}
async function platformUser(env: Env): Promise<number> {
  env.ids.platformUser ??= Number(
    (await env.api('POST', '/platform/api/v1/users', { name: 'Daniel', email: `${env.unique()}@acme.inc`, password: 'Password2!' })).id,
  );
  return env.ids.platformUser;
}
async function platformBot(env: Env): Promise<number> {
  env.ids.platformBot ??= Number((await env.api('POST', '/platform/api/v1/agent_bots', { name: 'Platform bot', outgoing_url: 'https://example.com/webhook' })).id);
  return env.ids.platformBot;
}
async function freshAgent(env: Env): Promise<number> {
  const agent = await env.api('POST', `${env.base}/agents`, { name: 'John Doe', email: `${env.unique()}@acme.inc`, role: 'agent' });
  return Number(agent.id);
}
async function freshContact(env: Env): Promise<number> {
  const res = await env.api('POST', `${env.base}/contacts`, { inbox_id: env.ids.inbox, name: 'Alice', email: `${env.unique()}@acme.inc` });
  const payload = res.payload as { contact?: { id: number } };
  return Number(payload.contact?.id);
}
async function freshMessage(env: Env): Promise<number> {
  const res = await env.api('POST', `${env.base}/conversations/${env.ids.conversation}/messages`, { content: 'to delete', message_type: 'outgoing' });
  return Number(res.id);
}

/** Keyed by swagger operationId. Every implemented operation must have one (the test enforces it). */
export const SCENARIOS: Record<string, Scenario> = {
  // Platform API
  'create-an-account': (e) => ({ url: '/platform/api/v1/accounts', payload: { name: `My Account ${e.unique()}`, locale: 'en' }, as: 'platform' }),
  'get-details-of-an-account': async (e) => ({ url: `/platform/api/v1/accounts/${await platformAccount(e)}`, as: 'platform' }),
  'update-an-account': async (e) => ({ url: `/platform/api/v1/accounts/${await platformAccount(e)}`, payload: { name: 'Renamed' }, as: 'platform' }),
  'delete-an-account': async (e) => {
    const id = (await e.api('POST', '/platform/api/v1/accounts', { name: 'Doomed' })).id;
    return { url: `/platform/api/v1/accounts/${id}`, as: 'platform' };
  },
  'list-all-account-users': async (e) => {
    const account = await platformAccount(e);
    await e.api('POST', `/platform/api/v1/accounts/${account}/account_users`, { user_id: await platformUser(e), role: 'agent' });
    return { url: `/platform/api/v1/accounts/${account}/account_users`, as: 'platform' };
  },
  'create-an-account-user': async (e) => ({
    url: `/platform/api/v1/accounts/${await platformAccount(e)}/account_users`,
    payload: { user_id: await platformUser(e), role: 'administrator' },
    as: 'platform',
  }),
  'delete-an-account-user': async (e) => {
    const account = await platformAccount(e);
    const user = await platformUser(e);
    await e.api('POST', `/platform/api/v1/accounts/${account}/account_users`, { user_id: user, role: 'agent' });
    return { url: `/platform/api/v1/accounts/${account}/account_users`, payload: { user_id: user }, as: 'platform' };
  },
  'list-all-agent-bots': async (e) => {
    await platformBot(e);
    return { url: '/platform/api/v1/agent_bots', as: 'platform' };
  },
  'create-an-agent-bot': () => ({
    url: '/platform/api/v1/agent_bots',
    payload: { name: 'My Agent Bot', description: 'This is a sample agent bot', outgoing_url: 'https://example.com/webhook' },
    as: 'platform',
  }),
  'get-details-of-a-single-agent-bot': async (e) => ({ url: `/platform/api/v1/agent_bots/${await platformBot(e)}`, as: 'platform' }),
  'update-an-agent-bot': async (e) => ({ url: `/platform/api/v1/agent_bots/${await platformBot(e)}`, payload: { description: 'Updated' }, as: 'platform' }),
  'delete-an-agent-bot': async (e) => {
    const id = (await e.api('POST', '/platform/api/v1/agent_bots', { name: 'Doomed bot' })).id;
    return { url: `/platform/api/v1/agent_bots/${id}`, as: 'platform' };
  },
  'create-a-user': (e) => ({
    url: '/platform/api/v1/users',
    payload: { name: 'Daniel', display_name: 'Dan', email: `${e.unique()}@acme.inc`, password: 'Password2!', custom_attributes: {} },
    as: 'platform',
  }),
  'get-details-of-a-user': async (e) => ({ url: `/platform/api/v1/users/${await platformUser(e)}`, as: 'platform' }),
  'update-a-user': async (e) => ({ url: `/platform/api/v1/users/${await platformUser(e)}`, payload: { display_name: 'Danny' }, as: 'platform' }),
  'delete-a-user': async (e) => {
    const id = (await e.api('POST', '/platform/api/v1/users', { name: 'Doomed', email: `${e.unique()}@acme.inc`, password: 'Password2!' })).id;
    return { url: `/platform/api/v1/users/${id}`, as: 'platform' };
  },
  'get-sso-url-of-a-user': async (e) => ({ url: `/platform/api/v1/users/${await platformUser(e)}/login`, as: 'platform' }),

  // Account & profile
  'get-account-details': (e) => ({ url: e.base }),
  'update-account': (e) => ({ url: e.base, payload: { name: 'My Account', locale: 'en', auto_resolve_after: 1440 } }),
  fetchProfile: () => ({ url: '/api/v1/profile' }),

  // Agent bots (account)
  'list-all-account-agent-bots': (e) => ({ url: `${e.base}/agent_bots` }),
  'create-an-account-agent-bot': (e) => ({
    url: `${e.base}/agent_bots`,
    payload: { name: 'My Agent Bot', description: 'This is a sample agent bot', outgoing_url: 'https://example.com/webhook', bot_type: 0, bot_config: {} },
  }),
  'get-details-of-a-single-account-agent-bot': (e) => ({ url: `${e.base}/agent_bots/${e.ids.agent_bot}` }),
  'update-an-account-agent-bot': (e) => ({ url: `${e.base}/agent_bots/${e.ids.agent_bot}`, payload: { description: 'Updated' } }),
  'delete-an-account-agent-bot': async (e) => ({ url: `${e.base}/agent_bots/${(await e.api('POST', `${e.base}/agent_bots`, { name: 'Doomed' })).id}` }),

  // Agents
  'get-account-agents': (e) => ({ url: `${e.base}/agents` }),
  'add-new-agent-to-account': (e) => ({ url: `${e.base}/agents`, payload: { name: 'John Doe', email: `${e.unique()}@acme.inc`, role: 'agent' } }),
  'update-agent-in-account': (e) => ({ url: `${e.base}/agents/${e.ids.agent}`, payload: { role: 'agent', availability_status: 'busy', auto_offline: true } }),
  'delete-agent-from-account': async (e) => ({ url: `${e.base}/agents/${await freshAgent(e)}` }),

  // Canned responses
  'get-account-canned-response': (e) => ({ url: `${e.base}/canned_responses` }),
  'add-new-canned-response-to-account': (e) => ({ url: `${e.base}/canned_responses`, payload: { short_code: `welcome${e.unique()}`, content: 'Hello' } }),
  'update-canned-response-in-account': (e) => ({ url: `${e.base}/canned_responses/${e.ids.canned_response}`, payload: { content: 'Updated' } }),
  'delete-canned-response-from-account': async (e) => ({
    url: `${e.base}/canned_responses/${(await e.api('POST', `${e.base}/canned_responses`, { short_code: `x${e.unique()}`, content: 'x' })).id}`,
  }),

  // Custom attribute definitions
  'get-account-custom-attribute': (e) => ({ url: `${e.base}/custom_attribute_definitions` }),
  'add-new-custom-attribute-to-account': (e) => ({
    url: `${e.base}/custom_attribute_definitions`,
    payload: {
      attribute_display_name: 'Plan',
      attribute_display_type: 6,
      attribute_description: 'Subscription plan',
      attribute_key: `plan_${e.unique()}`,
      attribute_values: ['value1', 'value2'],
      attribute_model: 0,
    },
  }),
  'get-details-of-a-single-custom-attribute': (e) => ({ url: `${e.base}/custom_attribute_definitions/${e.ids.custom_attribute_definition}` }),
  'update-custom-attribute-in-account': (e) => ({
    url: `${e.base}/custom_attribute_definitions/${e.ids.custom_attribute_definition}`,
    payload: { attribute_description: 'Updated' },
  }),
  'delete-custom-attribute-from-account': async (e) => {
    const cad = await e.api('POST', `${e.base}/custom_attribute_definitions`, {
      attribute_display_name: 'Doomed',
      attribute_display_type: 0,
      attribute_key: `doomed_${e.unique()}`,
      attribute_model: 1,
    });
    return { url: `${e.base}/custom_attribute_definitions/${cad.id}` };
  },

  // Contacts
  contactList: (e) => ({ url: `${e.base}/contacts` }),
  contactCreate: (e) => ({
    url: `${e.base}/contacts`,
    payload: {
      inbox_id: e.ids.inbox,
      name: 'Alice',
      email: `${e.unique()}@acme.inc`,
      phone_number: `+1415555${String(1000 + (seq % 9000))}`,
      identifier: e.unique(),
      additional_attributes: { type: 'customer', age: 30 },
      custom_attributes: {},
    },
  }),
  contactDetails: (e) => ({ url: `${e.base}/contacts/${e.ids.contact}` }),
  contactUpdate: (e) => ({ url: `${e.base}/contacts/${e.ids.contact}`, payload: { name: 'Alice Updated', additional_attributes: { city: 'Paris' } } }),
  contactDelete: async (e) => ({ url: `${e.base}/contacts/${await freshContact(e)}` }),
  contactConversations: (e) => ({ url: `${e.base}/contacts/${e.ids.contact}/conversations` }),
  'list-all-labels-of-a-contact': (e) => ({ url: `${e.base}/contacts/${e.ids.contact}/labels` }),
  'contact-add-labels': (e) => ({ url: `${e.base}/contacts/${e.ids.contact}/labels`, payload: { labels: ['support', 'billing'] } }),
  contactSearch: (e) => ({ url: `${e.base}/contacts/search?q=${encodeURIComponent(e.w.marker)}` }),
  contactFilter: (e) => ({
    url: `${e.base}/contacts/filter`,
    payload: { payload: [{ attribute_key: 'name', filter_operator: 'contains', values: ['Contact'], query_operator: null }] },
  }),
  contactInboxCreation: async (e) => {
    const inbox = await e.api('POST', `${e.base}/inboxes`, { name: `Second ${e.unique()}`, channel: { type: 'api' } });
    return { url: `${e.base}/contacts/${e.ids.contact}/contact_inboxes`, payload: { inbox_id: inbox.id, source_id: e.unique() } };
  },
  contactableInboxesGet: (e) => ({ url: `${e.base}/contacts/${e.ids.contact}/contactable_inboxes` }),

  // Conversations
  conversationListMeta: (e) => ({ url: `${e.base}/conversations/meta?status=all` }),
  conversationList: (e) => ({ url: `${e.base}/conversations?status=all` }),
  newConversation: (e) => ({
    url: `${e.base}/conversations`,
    payload: {
      inbox_id: e.ids.inbox,
      contact_id: e.ids.contact,
      additional_attributes: { browser: 'Chrome' },
      custom_attributes: { priority_conversation_number: 3 },
      status: 'open',
      message: { content: 'Hello' },
    },
  }),
  conversationFilter: (e) => ({
    url: `${e.base}/conversations/filter`,
    payload: { payload: [{ attribute_key: 'status', filter_operator: 'equal_to', values: ['open'], query_operator: null }] },
  }),
  'get-details-of-a-conversation': (e) => ({ url: `${e.base}/conversations/${e.ids.conversation}` }),
  'update-conversation': (e) => ({ url: `${e.base}/conversations/${e.ids.conversation}`, payload: { priority: 'high' } }),
  'toggle-status-of-a-conversation': (e) => ({ url: `${e.base}/conversations/${e.ids.conversation}/toggle_status`, payload: { status: 'open' } }),
  'toggle-priority-of-a-conversation': (e) => ({ url: `${e.base}/conversations/${e.ids.conversation}/toggle_priority`, payload: { priority: 'urgent' } }),
  'update-custom-attributes-of-a-conversation': (e) => ({
    url: `${e.base}/conversations/${e.ids.conversation}/custom_attributes`,
    payload: { custom_attributes: { order_id: '12345' } },
  }),
  'assign-a-conversation': (e) => ({ url: `${e.base}/conversations/${e.ids.conversation}/assignments`, payload: { assignee_id: e.w.a.admin.user.id } }),
  'list-all-labels-of-a-conversation': (e) => ({ url: `${e.base}/conversations/${e.ids.conversation}/labels` }),
  'conversation-add-labels': (e) => ({ url: `${e.base}/conversations/${e.ids.conversation}/labels`, payload: { labels: ['support', 'billing'] } }),

  // Inboxes
  listAllInboxes: (e) => ({ url: `${e.base}/inboxes` }),
  GetInbox: (e) => ({ url: `${e.base}/inboxes/${e.ids.inbox}` }),
  inboxCreation: (e) => ({
    url: `${e.base}/inboxes`,
    payload: { name: 'Support', greeting_enabled: true, greeting_message: 'Hello', channel: { type: 'web_widget', website_url: 'https://acme.inc', widget_color: '#1f93ff' } },
  }),
  updateInbox: (e) => ({ url: `${e.base}/inboxes/${e.ids.inbox}`, payload: { name: 'Support', enable_auto_assignment: true } }),
  getInboxAgentBot: async (e) => {
    await e.api('POST', `${e.base}/inboxes/${e.ids.inbox}/set_agent_bot`, { agent_bot: e.ids.agent_bot });
    return { url: `${e.base}/inboxes/${e.ids.inbox}/agent_bot` };
  },
  updateAgentBot: (e) => ({ url: `${e.base}/inboxes/${e.ids.inbox}/set_agent_bot`, payload: { agent_bot: e.ids.agent_bot } }),
  'get-inbox-members': (e) => ({ url: `${e.base}/inbox_members/${e.ids.inbox}` }),
  'add-new-agent-to-inbox': async (e) => ({ url: `${e.base}/inbox_members`, payload: { inbox_id: e.ids.inbox, user_ids: [await freshAgent(e)] } }),
  'update-agents-in-inbox': (e) => ({ url: `${e.base}/inbox_members`, payload: { inbox_id: e.ids.inbox, user_ids: [e.ids.agent] } }),
  'delete-agent-in-inbox': async (e) => {
    const agent = await freshAgent(e);
    await e.api('POST', `${e.base}/inbox_members`, { inbox_id: e.ids.inbox, user_ids: [agent] });
    return { url: `${e.base}/inbox_members`, payload: { inbox_id: e.ids.inbox, user_ids: [agent] } };
  },

  // Messages
  'list-all-messages': (e) => ({ url: `${e.base}/conversations/${e.ids.conversation}/messages` }),
  getConversationMessages: (e) => ({ url: `${e.base}/conversations/${e.ids.conversation}/messages?before=${Number.MAX_SAFE_INTEGER}` }),
  'create-a-new-message-in-a-conversation': (e) => ({
    url: `${e.base}/conversations/${e.ids.conversation}/messages`,
    payload: { content: 'Hello, how can I help you?', message_type: 'outgoing', private: false, content_type: 'text', content_attributes: {} },
  }),
  'delete-a-message': async (e) => ({ url: `${e.base}/conversations/${e.ids.conversation}/messages/${await freshMessage(e)}` }),

  // Teams
  'list-all-teams': (e) => ({ url: `${e.base}/teams` }),
  'create-a-team': (e) => ({ url: `${e.base}/teams`, payload: { name: `support ${e.unique()}`, description: 'Support agents', allow_auto_assign: true } }),
  'get-details-of-a-single-team': (e) => ({ url: `${e.base}/teams/${e.ids.team}` }),
  'update-a-team': (e) => ({ url: `${e.base}/teams/${e.ids.team}`, payload: { description: 'Updated' } }),
  'delete-a-team': async (e) => ({ url: `${e.base}/teams/${(await e.api('POST', `${e.base}/teams`, { name: `doomed ${e.unique()}` })).id}` }),
  'get-team-members': async (e) => {
    await e.api('POST', `${e.base}/teams/${e.ids.team}/team_members`, { user_ids: [e.ids.agent] });
    return { url: `${e.base}/teams/${e.ids.team}/team_members` };
  },
  'add-new-agent-to-team': async (e) => ({ url: `${e.base}/teams/${e.ids.team}/team_members`, payload: { user_ids: [await freshAgent(e)] } }),
  'update-agents-in-team': (e) => ({ url: `${e.base}/teams/${e.ids.team}/team_members`, payload: { user_ids: [e.ids.agent] } }),
  'delete-agent-in-team': async (e) => {
    const agent = await freshAgent(e);
    await e.api('POST', `${e.base}/teams/${e.ids.team}/team_members`, { user_ids: [agent] });
    return { url: `${e.base}/teams/${e.ids.team}/team_members`, payload: { user_ids: [agent] } };
  },

  // Custom filters
  'list-all-filters': (e) => ({ url: `${e.base}/custom_filters` }),
  'create-a-custom-filter': (e) => ({
    url: `${e.base}/custom_filters`,
    payload: {
      name: 'Open chats',
      type: 'conversation',
      query: { payload: [{ attribute_key: 'status', filter_operator: 'equal_to', values: ['open'], query_operator: null }] },
    },
  }),
  'get-details-of-a-single-custom-filter': (e) => ({ url: `${e.base}/custom_filters/${e.ids.custom_filter}` }),
  'update-a-custom-filter': (e) => ({ url: `${e.base}/custom_filters/${e.ids.custom_filter}`, payload: { name: 'Renamed filter' } }),
  'delete-a-custom-filter': async (e) => ({
    url: `${e.base}/custom_filters/${(await e.api('POST', `${e.base}/custom_filters`, { name: 'Doomed', type: 'contact', query: { payload: [] } })).id}`,
  }),
};
