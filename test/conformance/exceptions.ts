import type { Exception, Schema } from './swagger.js';

/**
 * Where the swagger and Chatwoot 4.9.1's jbuilder views disagree, the view wins. Keys are
 * `<schema>.<property path>` (see checkSchema: the nearest named component schema, or the
 * operationId for inline response schemas). An entry without `schema` lets the property be
 * absent (the view does not always render it); with `schema`, the property is checked against
 * what the view renders instead. Everything not listed here is checked strictly.
 */
const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });

const PLATFORM_USER_OPS = ['create-a-user', 'get-details-of-a-user', 'update-a-user'];
const PLATFORM_BOT_OPS = ['list-all-agent-bots', 'create-an-agent-bot', 'get-details-of-a-single-agent-bot', 'update-an-agent-bot'];
/** Operations rendering api/v1/models/_message (the REST message partial, not push_event_data). */
const MESSAGE_PARTIAL_OPS = ['list-all-messages', 'create-a-new-message-in-a-conversation'];

/** Message fields present in push_event_data (conversation payloads) but not in the REST message partial. */
const messagePartialAbsent = Object.fromEntries(
  ['account_id', 'sender_id', 'external_source_ids', 'additional_attributes', 'processed_message_content', 'sentiment', 'conversation'].map(
    (field) => [`message.${field}`, { reason: 'api/v1/models/_message.json.jbuilder does not render it', ops: MESSAGE_PARTIAL_OPS }],
  ),
);

/** Conversation list/show meta: api/v1/conversations/partials/_conversation.json.jbuilder. */
const conversationMeta = (schema: string): Record<string, Exception> => ({
  [`${schema}.meta.sender.last_activity_at`]: { reason: '_contact partial renders last_activity_at only when set' },
  [`${schema}.meta.assignee`]: { reason: 'rendered only when assigned, with the _agent partial (not _user)', schema: ref('agent') },
});

export const EXCEPTIONS: Record<string, Exception | Exception[]> = {
  // Users (api/v1/models/_user, platform/api/v1/models/_user)
  'user.hmac_identifier': { reason: 'rendered only when CHATWOOT_INBOX_HMAC_KEY is configured; never by the platform view' },
  'user.custom_attributes': { reason: 'rendered only when present' },
  'user.inviter_id': { reason: 'platform/api/v1/models/_user does not render it', ops: PLATFORM_USER_OPS },
  'user.type': { reason: 'platform/api/v1/models/_user does not render it', ops: PLATFORM_USER_OPS },
  'user.accounts[].custom_role_id': { reason: 'enterprise-only account_user partial' },
  'user.accounts[].custom_role': { reason: 'enterprise-only account_user partial' },

  // Agents (api/v1/models/_agent)
  'agent.custom_role_id': { reason: 'enterprise only' },
  'agent.availability_status': {
    reason: 'User#availability_status renders online/busy/offline (swagger says "available")',
    schema: { type: 'string', enum: ['online', 'busy', 'offline'] },
  },

  // Agent bots
  'agent_bot.thumbnail': { reason: 'platform/api/v1/models/_agent_bot does not render it', ops: PLATFORM_BOT_OPS },
  'agent_bot.bot_type': { reason: 'platform/api/v1/models/_agent_bot does not render it', ops: PLATFORM_BOT_OPS },
  'agent_bot.bot_config': { reason: 'platform/api/v1/models/_agent_bot does not render it', ops: PLATFORM_BOT_OPS },
  'agent_bot.system_bot': { reason: 'platform/api/v1/models/_agent_bot does not render it', ops: PLATFORM_BOT_OPS },
  'agent_bot.outgoing_url': { reason: 'hidden for system bots (account_id nil), which the account list includes', ops: ['list-all-account-agent-bots'] },
  'agent_bot.access_token': { reason: 'AgentBotPresenter shows it only to the bot\'s own account (system bots: never)', ops: ['list-all-account-agent-bots'] },

  // Account (api/v1/accounts/show + models/_account)
  'account_detail.features': { reason: 'enabled_features renders a {feature: true} hash, not an array', schema: { type: 'object' } },
  'account_detail.settings.auto_resolve_after': { reason: 'settings renders only the keys that were set' },
  'account_detail.settings.auto_resolve_message': { reason: 'settings renders only the keys that were set' },
  'account_detail.settings.auto_resolve_ignore_waiting': { reason: 'settings renders only the keys that were set' },
  'account_detail.custom_attributes': { reason: 'rendered only when present' },
  'account_show_response.subscribed_features': { reason: 'enterprise only' },

  // Custom attribute definitions / custom filters
  'custom_attribute.attribute_values': { reason: 'attribute_values is a JSON array column', schema: { type: 'array' } },
  'custom_filter.type': { reason: 'api/v1/models/_custom_filter renders it as filter_type' },

  // Inboxes (api/v1/models/_inbox)
  'inbox.selected_feature_flags': {
    reason: 'FlagShihTzu renders an array of flag names for web widgets, nil for other channels',
    schema: { type: 'array', nullable: true, items: { type: 'string' } },
  },
  'inbox.medium': { reason: 'rendered only for Twilio inboxes' },

  // Contacts (api/v1/models/_contact)
  'contact_meta.current_page': { reason: '`params[:page] || 1`: integer 1 without a page param, the string otherwise', schema: { anyOf: [{ type: 'string' }, { type: 'integer' }] } },
  'contact_list_item.last_activity_at': { reason: 'rendered only when set' },
  'contact_list_item.additional_attributes.city': { reason: 'additional_attributes is free-form; keys exist only when set' },
  'contact_list_item.additional_attributes.country': { reason: 'additional_attributes is free-form; keys exist only when set' },
  'contact_list_item.additional_attributes.country_code': { reason: 'additional_attributes is free-form; keys exist only when set' },
  'contact_list_item.additional_attributes.created_at_ip': { reason: 'additional_attributes is free-form; keys exist only when set' },

  // Conversations (api/v1/conversations/partials/_conversation; messages are Message#push_event_data)
  'conversation.timestamp': { reason: 'rendered as last_activity_at.to_i', schema: { type: 'integer' } },
  'conversation.applied_sla': { reason: 'enterprise only' },
  'conversation.sla_events': { reason: 'enterprise only' },
  'message.updated_at': [
    { reason: 'the REST message partial does not render it', ops: MESSAGE_PARTIAL_OPS },
    { reason: 'push_event_data merges raw attributes: updated_at is an ISO-8601 string', schema: { type: 'string' } },
  ],
  'message.sender_type': [
    { reason: 'the REST message partial does not render it', ops: MESSAGE_PARTIAL_OPS },
    { reason: 'push_event_data renders the polymorphic class name (User, Contact, AgentBot)', schema: { type: 'string', enum: ['User', 'Contact', 'AgentBot'] } },
  ],
  'message.attachment': { reason: 'never rendered; attachments (plural) appear only when present' },
  'message.sender': { reason: 'rendered only when the message has a sender (activity messages have none)' },
  ...messagePartialAbsent,
  ...conversationMeta('conversation_list.data.payload[]'),
  ...conversationMeta('conversation_show'),
  ...conversationMeta('contact_conversations_response.payload[]'),

  // The same index, as documented under getConversationMessages (conversation_messages schema)
  ...Object.fromEntries(
    ['browser', 'referer', 'initiated_at', 'browser_language', 'conversation_language'].map((k) => [
      `conversation_meta.additional_attributes.${k}`,
      { reason: 'additional_attributes is free-form; keys exist only when set (web widget conversations)' },
    ]),
  ),
  ...Object.fromEntries(
    ['country', 'country_code', 'created_at_ip'].map((k) => [`contact_detail.additional_attributes.${k}`, { reason: 'additional_attributes is free-form; keys exist only when set' }]),
  ),
  'message_detailed.content_attributes.in_reply_to': { reason: 'content_attributes is free-form; in_reply_to exists only on replies' },
  'message_detailed.sender': {
    reason: "the sender's push_event_data: a contact, a user or an agent bot; absent for activity messages",
    schema: {
      type: 'object',
      properties: { id: { type: 'integer' }, name: { type: 'string' }, thumbnail: { type: 'string' }, type: { type: 'string', enum: ['contact', 'user', 'agent_bot'] } },
    },
  },

  // Messages index meta (api/v1/accounts/conversations/messages/index)
  'list-all-messages.meta.contact': {
    reason: 'renders Contact#push_event_data, not the contact list wrapper',
    schema: {
      type: 'object',
      properties: {
        additional_attributes: { type: 'object' },
        custom_attributes: { type: 'object' },
        email: { type: 'string' },
        id: { type: 'integer' },
        identifier: { type: 'string' },
        name: { type: 'string' },
        phone_number: { type: 'string' },
        thumbnail: { type: 'string' },
        blocked: { type: 'boolean' },
        type: { type: 'string', enum: ['contact'] },
      },
    },
  },
  'list-all-messages.meta.assignee': {
    reason: 'renders User#push_event_data, only when assigned',
    schema: {
      type: 'object',
      properties: { id: { type: 'integer' }, name: { type: 'string' }, available_name: { type: 'string' }, avatar_url: { type: 'string' }, type: { type: 'string' }, availability_status: { type: 'string' }, thumbnail: { type: 'string' } },
    },
  },
};

/** Operations whose documented success status or body is wrong in the swagger. */
export const STATUS_EXCEPTIONS: Record<string, { status: number[]; schema?: Schema; reason: string }> = {
  'delete-custom-attribute-from-account': { status: [204], reason: 'controller answers head :no_content' },
  'delete-a-custom-filter': { status: [204], reason: 'controller answers head :no_content' },
  getInboxAgentBot: {
    status: [200],
    reason: 'inboxes/agent_bot.json.jbuilder renders {agent_bot: …} with 200',
    schema: { type: 'object', properties: { agent_bot: ref('agent_bot') } },
  },
  updateAgentBot: { status: [200], reason: 'controller answers head :ok' },
  contactCreate: {
    status: [200],
    reason: 'contacts/create.json.jbuilder renders {payload: {contact, contact_inbox}}',
    schema: {
      type: 'object',
      properties: {
        payload: {
          type: 'object',
          properties: {
            contact: ref('contact_list_item'),
            contact_inbox: { type: 'object', properties: { inbox: { type: 'object', nullable: true }, source_id: { type: 'string' } } },
          },
        },
      },
    },
  },
  contactUpdate: { status: [200], reason: 'contacts/update.json.jbuilder renders {payload: contact} with 200', schema: ref('contact_show_response') },
  conversationFilter: {
    status: [200],
    reason: 'conversations/filter.json.jbuilder renders {meta, payload} without the data wrapper of index',
    schema: {
      type: 'object',
      properties: {
        meta: { type: 'object', properties: { mine_count: { type: 'integer' }, unassigned_count: { type: 'integer' }, all_count: { type: 'integer' } } },
        payload: { type: 'array', items: ref('conversation_show') },
      },
    },
  },
  'assign-a-conversation': { status: [200], reason: 'assignments controller renders the _agent partial, not _user', schema: ref('agent') },
};

/**
 * Properties the jbuilder views render that the swagger does not document, added to the
 * component schemas before checking so they are required too.
 */
export const SCHEMA_ADDITIONS: Record<string, Record<string, Schema>> = {
  custom_filter: { filter_type: { type: 'string', enum: ['conversation', 'contact', 'report'] } },
  agent: { provider: { type: 'string' } },
  inbox: { provider: { type: 'string' } },
};

/** Swagger paths that are wrong: the operation exists in Chatwoot under this path. */
export const PATH_FIXES: Record<string, { path: string; reason: string }> = {
  getConversationMessages: {
    path: '/api/v1/accounts/{account_id}/conversations/{conversation_id}/messages',
    reason: 'documented without the /api/v1 prefix; Chatwoot routes only the prefixed path (same action as list-all-messages)',
  },
};
