import type { Kysely } from 'kysely';
import type { Engine } from '../../config.js';
import { columns, timestamps } from './helpers.js';

/**
 * The whole relational model Chatwoot's Application API needs (accounts and users through
 * conversations and messages), created at once so every module builds on one schema.
 * Later changes go in new numbered files; this file is never edited once released.
 */
export async function up(db: Kysely<unknown>, engine: Engine): Promise<void> {
  const c = columns(engine);
  const json = c.jsonType;
  const obj = c.jsonObjectDefault;

  await timestamps(
    c.id(db.schema.createTable('accounts'))
      .addColumn('name', 'text', (col) => col.notNull())
      .addColumn('locale', 'text', (col) => col.notNull().defaultTo('en'))
      .addColumn('domain', 'text')
      .addColumn('support_email', 'text')
      .addColumn('status', 'integer', (col) => col.notNull().defaultTo(0))
      .addColumn('features', json, (col) => col.notNull().defaultTo(obj))
      .addColumn('limits', json, (col) => col.notNull().defaultTo(obj))
      .addColumn('custom_attributes', json, (col) => col.notNull().defaultTo(obj))
      .addColumn('settings', json, (col) => col.notNull().defaultTo(obj))
      .addColumn('auto_resolve_duration', 'integer')
      .addColumn('last_display_id', 'integer', (col) => col.notNull().defaultTo(0)),
  ).execute();

  await timestamps(
    c.id(db.schema.createTable('users'))
      .addColumn('provider', 'text', (col) => col.notNull().defaultTo('email'))
      .addColumn('uid', 'text', (col) => col.notNull())
      .addColumn('email', 'text', (col) => col.notNull())
      .addColumn('encrypted_password', 'text', (col) => col.notNull().defaultTo(''))
      .addColumn('name', 'text', (col) => col.notNull())
      .addColumn('display_name', 'text')
      .addColumn('pubsub_token', 'text', (col) => col.notNull())
      .addColumn('availability', 'integer', (col) => col.notNull().defaultTo(0))
      .addColumn('ui_settings', json, (col) => col.notNull().defaultTo(obj))
      .addColumn('custom_attributes', json, (col) => col.notNull().defaultTo(obj))
      .addColumn('type', 'text')
      .addColumn('message_signature', 'text')
      .addColumn('avatar_url', 'text')
      .addColumn('confirmed_at', 'bigint')
      .addColumn('sign_in_count', 'integer', (col) => col.notNull().defaultTo(0))
      .addColumn('last_sign_in_at', 'bigint'),
  ).execute();
  await db.schema.createIndex('users_email_unique').on('users').column('email').unique().execute();
  await db.schema.createIndex('users_pubsub_token_unique').on('users').column('pubsub_token').unique().execute();

  await timestamps(
    c.id(db.schema.createTable('account_users'))
      .addColumn('account_id', 'integer', (col) => col.notNull().references('accounts.id').onDelete('cascade'))
      .addColumn('user_id', 'integer', (col) => col.notNull().references('users.id').onDelete('cascade'))
      .addColumn('role', 'integer', (col) => col.notNull().defaultTo(0))
      .addColumn('inviter_id', 'integer')
      .addColumn('active_at', 'bigint')
      .addColumn('availability', 'integer', (col) => col.notNull().defaultTo(0))
      .addColumn('auto_offline', 'integer', (col) => col.notNull().defaultTo(1)),
  ).execute();
  await db.schema.createIndex('account_users_unique').on('account_users').columns(['account_id', 'user_id']).unique().execute();
  await db.schema.createIndex('account_users_user').on('account_users').column('user_id').execute();

  await timestamps(
    c.id(db.schema.createTable('access_tokens'))
      .addColumn('owner_type', 'text', (col) => col.notNull())
      .addColumn('owner_id', 'integer', (col) => col.notNull())
      .addColumn('token', 'text', (col) => col.notNull())
      .addColumn('token_digest', 'text', (col) => col.notNull()),
  ).execute();
  await db.schema.createIndex('access_tokens_digest_unique').on('access_tokens').column('token_digest').unique().execute();
  await db.schema.createIndex('access_tokens_owner').on('access_tokens').columns(['owner_type', 'owner_id']).execute();

  // devise_token_auth sessions: one row per signed-in client.
  await timestamps(
    c.id(db.schema.createTable('user_sessions'))
      .addColumn('user_id', 'integer', (col) => col.notNull().references('users.id').onDelete('cascade'))
      .addColumn('client', 'text', (col) => col.notNull())
      .addColumn('token_digest', 'text', (col) => col.notNull())
      .addColumn('expires_at', 'bigint', (col) => col.notNull()),
  ).execute();
  await db.schema.createIndex('user_sessions_client').on('user_sessions').columns(['user_id', 'client']).unique().execute();

  // One-time sign-in links handed out by the Platform API (users/{id}/login).
  await db.schema
    .createTable('sso_tokens')
    .addColumn('token_digest', 'text', (col) => col.primaryKey())
    .addColumn('user_id', 'integer', (col) => col.notNull().references('users.id').onDelete('cascade'))
    .addColumn('expires_at', 'bigint', (col) => col.notNull())
    .execute();

  await timestamps(c.id(db.schema.createTable('platform_apps')).addColumn('name', 'text', (col) => col.notNull())).execute();
  await timestamps(
    c.id(db.schema.createTable('platform_app_permissibles'))
      .addColumn('platform_app_id', 'integer', (col) => col.notNull().references('platform_apps.id').onDelete('cascade'))
      .addColumn('permissible_type', 'text', (col) => col.notNull())
      .addColumn('permissible_id', 'integer', (col) => col.notNull()),
  ).execute();
  await db.schema
    .createIndex('platform_app_permissibles_unique')
    .on('platform_app_permissibles')
    .columns(['platform_app_id', 'permissible_type', 'permissible_id'])
    .unique()
    .execute();
  await db.schema
    .createIndex('platform_app_permissibles_target')
    .on('platform_app_permissibles')
    .columns(['permissible_type', 'permissible_id'])
    .execute();

  await timestamps(
    c.id(db.schema.createTable('agent_bots'))
      .addColumn('name', 'text', (col) => col.notNull())
      .addColumn('description', 'text')
      .addColumn('outgoing_url', 'text')
      .addColumn('account_id', 'integer', (col) => col.references('accounts.id').onDelete('cascade'))
      .addColumn('bot_type', 'integer', (col) => col.notNull().defaultTo(0))
      .addColumn('bot_config', json, (col) => col.notNull().defaultTo(obj))
      .addColumn('avatar_url', 'text'),
  ).execute();
  await db.schema.createIndex('agent_bots_account').on('agent_bots').column('account_id').execute();

  // ---- channels and inboxes ----
  await timestamps(
    c.id(db.schema.createTable('channel_api'))
      .addColumn('account_id', 'integer', (col) => col.notNull().references('accounts.id').onDelete('cascade'))
      .addColumn('webhook_url', 'text')
      .addColumn('identifier', 'text', (col) => col.notNull())
      .addColumn('hmac_token', 'text', (col) => col.notNull())
      .addColumn('hmac_mandatory', 'integer', (col) => col.notNull().defaultTo(0))
      .addColumn('additional_attributes', json, (col) => col.notNull().defaultTo(obj)),
  ).execute();
  await db.schema.createIndex('channel_api_identifier').on('channel_api').column('identifier').unique().execute();

  await timestamps(
    c.id(db.schema.createTable('channel_web_widgets'))
      .addColumn('account_id', 'integer', (col) => col.notNull().references('accounts.id').onDelete('cascade'))
      .addColumn('website_url', 'text')
      .addColumn('website_token', 'text', (col) => col.notNull())
      .addColumn('widget_color', 'text', (col) => col.notNull().defaultTo('#1f93ff'))
      .addColumn('welcome_title', 'text')
      .addColumn('welcome_tagline', 'text')
      .addColumn('feature_flags', 'integer', (col) => col.notNull().defaultTo(7))
      .addColumn('reply_time', 'integer', (col) => col.notNull().defaultTo(0))
      .addColumn('hmac_token', 'text', (col) => col.notNull())
      .addColumn('hmac_mandatory', 'integer', (col) => col.notNull().defaultTo(0))
      .addColumn('pre_chat_form_enabled', 'integer', (col) => col.notNull().defaultTo(0))
      .addColumn('pre_chat_form_options', json, (col) => col.notNull().defaultTo(obj))
      .addColumn('continuity_via_email', 'integer', (col) => col.notNull().defaultTo(1))
      .addColumn('allowed_domains', 'text', (col) => col.notNull().defaultTo('')),
  ).execute();
  await db.schema.createIndex('channel_web_widgets_token').on('channel_web_widgets').column('website_token').unique().execute();

  await timestamps(
    c.id(db.schema.createTable('inboxes'))
      .addColumn('account_id', 'integer', (col) => col.notNull().references('accounts.id').onDelete('cascade'))
      .addColumn('channel_type', 'text', (col) => col.notNull())
      .addColumn('channel_id', 'integer', (col) => col.notNull())
      .addColumn('name', 'text', (col) => col.notNull())
      .addColumn('avatar_url', 'text')
      .addColumn('enable_auto_assignment', 'integer', (col) => col.notNull().defaultTo(1))
      .addColumn('auto_assignment_config', json, (col) => col.notNull().defaultTo(obj))
      .addColumn('greeting_enabled', 'integer', (col) => col.notNull().defaultTo(0))
      .addColumn('greeting_message', 'text')
      .addColumn('email_address', 'text')
      .addColumn('working_hours_enabled', 'integer', (col) => col.notNull().defaultTo(0))
      .addColumn('out_of_office_message', 'text')
      .addColumn('timezone', 'text', (col) => col.notNull().defaultTo('UTC'))
      .addColumn('enable_email_collect', 'integer', (col) => col.notNull().defaultTo(1))
      .addColumn('csat_survey_enabled', 'integer', (col) => col.notNull().defaultTo(0))
      .addColumn('csat_config', json, (col) => col.notNull().defaultTo(obj))
      .addColumn('allow_messages_after_resolved', 'integer', (col) => col.notNull().defaultTo(1))
      .addColumn('lock_to_single_conversation', 'integer', (col) => col.notNull().defaultTo(0))
      .addColumn('sender_name_type', 'integer', (col) => col.notNull().defaultTo(0))
      .addColumn('business_name', 'text'),
  ).execute();
  await db.schema.createIndex('inboxes_account').on('inboxes').column('account_id').execute();

  // Chatwoot's working_hours: one row per day of week per inbox.
  await timestamps(
    c.id(db.schema.createTable('working_hours'))
      .addColumn('inbox_id', 'integer', (col) => col.notNull().references('inboxes.id').onDelete('cascade'))
      .addColumn('account_id', 'integer', (col) => col.notNull())
      .addColumn('day_of_week', 'integer', (col) => col.notNull())
      .addColumn('closed_all_day', 'integer', (col) => col.notNull().defaultTo(0))
      .addColumn('open_hour', 'integer')
      .addColumn('open_minutes', 'integer')
      .addColumn('close_hour', 'integer')
      .addColumn('close_minutes', 'integer')
      .addColumn('open_all_day', 'integer', (col) => col.notNull().defaultTo(0)),
  ).execute();
  await db.schema.createIndex('working_hours_inbox').on('working_hours').column('inbox_id').execute();

  await timestamps(
    c.id(db.schema.createTable('inbox_members'))
      .addColumn('inbox_id', 'integer', (col) => col.notNull().references('inboxes.id').onDelete('cascade'))
      .addColumn('user_id', 'integer', (col) => col.notNull().references('users.id').onDelete('cascade')),
  ).execute();
  await db.schema.createIndex('inbox_members_unique').on('inbox_members').columns(['inbox_id', 'user_id']).unique().execute();
  await db.schema.createIndex('inbox_members_user').on('inbox_members').column('user_id').execute();

  await timestamps(
    c.id(db.schema.createTable('agent_bot_inboxes'))
      .addColumn('inbox_id', 'integer', (col) => col.notNull().references('inboxes.id').onDelete('cascade'))
      .addColumn('agent_bot_id', 'integer', (col) => col.notNull().references('agent_bots.id').onDelete('cascade'))
      .addColumn('account_id', 'integer', (col) => col.notNull())
      .addColumn('status', 'integer', (col) => col.notNull().defaultTo(0)),
  ).execute();
  await db.schema.createIndex('agent_bot_inboxes_inbox').on('agent_bot_inboxes').column('inbox_id').unique().execute();

  // ---- teams, labels, account configuration ----
  await timestamps(
    c.id(db.schema.createTable('teams'))
      .addColumn('account_id', 'integer', (col) => col.notNull().references('accounts.id').onDelete('cascade'))
      .addColumn('name', 'text', (col) => col.notNull())
      .addColumn('description', 'text')
      .addColumn('allow_auto_assign', 'integer', (col) => col.notNull().defaultTo(1)),
  ).execute();
  await db.schema.createIndex('teams_account_name').on('teams').columns(['account_id', 'name']).unique().execute();

  await timestamps(
    c.id(db.schema.createTable('team_members'))
      .addColumn('team_id', 'integer', (col) => col.notNull().references('teams.id').onDelete('cascade'))
      .addColumn('user_id', 'integer', (col) => col.notNull().references('users.id').onDelete('cascade')),
  ).execute();
  await db.schema.createIndex('team_members_unique').on('team_members').columns(['team_id', 'user_id']).unique().execute();

  await timestamps(
    c.id(db.schema.createTable('labels'))
      .addColumn('account_id', 'integer', (col) => col.notNull().references('accounts.id').onDelete('cascade'))
      .addColumn('title', 'text', (col) => col.notNull())
      .addColumn('description', 'text')
      .addColumn('color', 'text', (col) => col.notNull().defaultTo('#1f93ff'))
      .addColumn('show_on_sidebar', 'integer'),
  ).execute();
  await db.schema.createIndex('labels_account_title').on('labels').columns(['account_id', 'title']).unique().execute();

  // acts_as_taggable: the label names attached to a conversation or a contact.
  await db.schema
    .createTable('taggings')
    .addColumn('account_id', 'integer', (col) => col.notNull())
    .addColumn('taggable_type', 'text', (col) => col.notNull())
    .addColumn('taggable_id', 'integer', (col) => col.notNull())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addPrimaryKeyConstraint('taggings_pk', ['taggable_type', 'taggable_id', 'name'])
    .execute();
  await db.schema.createIndex('taggings_by_name').on('taggings').columns(['account_id', 'taggable_type', 'name']).execute();

  await timestamps(
    c.id(db.schema.createTable('canned_responses'))
      .addColumn('account_id', 'integer', (col) => col.notNull().references('accounts.id').onDelete('cascade'))
      .addColumn('short_code', 'text', (col) => col.notNull())
      .addColumn('content', 'text', (col) => col.notNull()),
  ).execute();
  await db.schema.createIndex('canned_responses_account').on('canned_responses').columns(['account_id', 'short_code']).unique().execute();

  await timestamps(
    c.id(db.schema.createTable('custom_attribute_definitions'))
      .addColumn('account_id', 'integer', (col) => col.notNull().references('accounts.id').onDelete('cascade'))
      .addColumn('attribute_display_name', 'text', (col) => col.notNull())
      .addColumn('attribute_key', 'text', (col) => col.notNull())
      .addColumn('attribute_display_type', 'integer', (col) => col.notNull().defaultTo(0))
      .addColumn('attribute_model', 'integer', (col) => col.notNull().defaultTo(0))
      .addColumn('attribute_description', 'text')
      .addColumn('attribute_values', json, (col) => col.notNull().defaultTo(c.jsonArrayDefault))
      .addColumn('default_value', 'text')
      .addColumn('regex_pattern', 'text')
      .addColumn('regex_cue', 'text'),
  ).execute();
  await db.schema
    .createIndex('custom_attribute_definitions_unique')
    .on('custom_attribute_definitions')
    .columns(['account_id', 'attribute_model', 'attribute_key'])
    .unique()
    .execute();

  await timestamps(
    c.id(db.schema.createTable('custom_filters'))
      .addColumn('account_id', 'integer', (col) => col.notNull().references('accounts.id').onDelete('cascade'))
      .addColumn('user_id', 'integer', (col) => col.notNull().references('users.id').onDelete('cascade'))
      .addColumn('name', 'text', (col) => col.notNull())
      .addColumn('filter_type', 'integer', (col) => col.notNull().defaultTo(0))
      .addColumn('query', json, (col) => col.notNull().defaultTo(obj)),
  ).execute();
  await db.schema.createIndex('custom_filters_user').on('custom_filters').columns(['account_id', 'user_id']).execute();

  // ---- contacts ----
  await timestamps(
    c.id(db.schema.createTable('contacts'))
      .addColumn('account_id', 'integer', (col) => col.notNull().references('accounts.id').onDelete('cascade'))
      .addColumn('name', 'text', (col) => col.notNull().defaultTo(''))
      .addColumn('middle_name', 'text', (col) => col.notNull().defaultTo(''))
      .addColumn('last_name', 'text', (col) => col.notNull().defaultTo(''))
      .addColumn('email', 'text')
      .addColumn('phone_number', 'text')
      .addColumn('identifier', 'text')
      .addColumn('avatar_url', 'text')
      .addColumn('additional_attributes', json, (col) => col.notNull().defaultTo(obj))
      .addColumn('custom_attributes', json, (col) => col.notNull().defaultTo(obj))
      .addColumn('last_activity_at', 'bigint')
      .addColumn('contact_type', 'integer', (col) => col.notNull().defaultTo(0))
      .addColumn('location', 'text', (col) => col.notNull().defaultTo(''))
      .addColumn('country_code', 'text', (col) => col.notNull().defaultTo(''))
      .addColumn('blocked', 'integer', (col) => col.notNull().defaultTo(0))
      .addColumn('company_id', 'integer'),
  ).execute();
  // Uniqueness of email is case-insensitive: the service stores emails lower-cased.
  await db.schema.createIndex('contacts_account_email').on('contacts').columns(['account_id', 'email']).unique().execute();
  await db.schema.createIndex('contacts_account_phone').on('contacts').columns(['account_id', 'phone_number']).unique().execute();
  await db.schema.createIndex('contacts_account_identifier').on('contacts').columns(['account_id', 'identifier']).unique().execute();
  await db.schema.createIndex('contacts_account_created').on('contacts').columns(['account_id', 'created_at']).execute();
  await db.schema.createIndex('contacts_account_activity').on('contacts').columns(['account_id', 'last_activity_at']).execute();

  await timestamps(
    c.id(db.schema.createTable('contact_inboxes'))
      .addColumn('contact_id', 'integer', (col) => col.notNull().references('contacts.id').onDelete('cascade'))
      .addColumn('inbox_id', 'integer', (col) => col.notNull().references('inboxes.id').onDelete('cascade'))
      .addColumn('source_id', 'text', (col) => col.notNull())
      .addColumn('hmac_verified', 'integer', (col) => col.notNull().defaultTo(0))
      .addColumn('pubsub_token', 'text', (col) => col.notNull()),
  ).execute();
  await db.schema.createIndex('contact_inboxes_source').on('contact_inboxes').columns(['inbox_id', 'source_id']).unique().execute();
  await db.schema.createIndex('contact_inboxes_contact').on('contact_inboxes').column('contact_id').execute();
  await db.schema.createIndex('contact_inboxes_pubsub').on('contact_inboxes').column('pubsub_token').unique().execute();

  await timestamps(
    c.id(db.schema.createTable('notes'))
      .addColumn('account_id', 'integer', (col) => col.notNull().references('accounts.id').onDelete('cascade'))
      .addColumn('contact_id', 'integer', (col) => col.notNull().references('contacts.id').onDelete('cascade'))
      .addColumn('user_id', 'integer', (col) => col.references('users.id').onDelete('set null'))
      .addColumn('content', 'text', (col) => col.notNull()),
  ).execute();
  await db.schema.createIndex('notes_contact').on('notes').column('contact_id').execute();

  // ---- conversations and messages ----
  await timestamps(
    c.id(db.schema.createTable('conversations'))
      .addColumn('account_id', 'integer', (col) => col.notNull().references('accounts.id').onDelete('cascade'))
      .addColumn('inbox_id', 'integer', (col) => col.notNull().references('inboxes.id').onDelete('cascade'))
      .addColumn('display_id', 'integer', (col) => col.notNull())
      .addColumn('uuid', 'text', (col) => col.notNull())
      .addColumn('status', 'integer', (col) => col.notNull().defaultTo(0))
      .addColumn('assignee_id', 'integer', (col) => col.references('users.id').onDelete('set null'))
      .addColumn('assignee_agent_bot_id', 'integer')
      .addColumn('contact_id', 'integer', (col) => col.notNull().references('contacts.id').onDelete('cascade'))
      .addColumn('contact_inbox_id', 'integer', (col) => col.references('contact_inboxes.id').onDelete('set null'))
      .addColumn('team_id', 'integer', (col) => col.references('teams.id').onDelete('set null'))
      .addColumn('campaign_id', 'integer')
      .addColumn('identifier', 'text')
      .addColumn('priority', 'integer')
      .addColumn('sla_policy_id', 'integer')
      .addColumn('additional_attributes', json, (col) => col.notNull().defaultTo(obj))
      .addColumn('custom_attributes', json, (col) => col.notNull().defaultTo(obj))
      .addColumn('cached_label_list', 'text', (col) => col.notNull().defaultTo(''))
      .addColumn('snoozed_until', 'bigint')
      .addColumn('last_activity_at', 'bigint', (col) => col.notNull())
      .addColumn('waiting_since', 'bigint')
      .addColumn('first_reply_created_at', 'bigint')
      .addColumn('contact_last_seen_at', 'bigint')
      .addColumn('agent_last_seen_at', 'bigint')
      .addColumn('assignee_last_seen_at', 'bigint'),
  ).execute();
  await db.schema.createIndex('conversations_display_id').on('conversations').columns(['account_id', 'display_id']).unique().execute();
  await db.schema.createIndex('conversations_uuid').on('conversations').column('uuid').unique().execute();
  await db.schema
    .createIndex('conversations_list')
    .on('conversations')
    .columns(['account_id', 'status', 'last_activity_at'])
    .execute();
  await db.schema
    .createIndex('conversations_inbox_status')
    .on('conversations')
    .columns(['inbox_id', 'status', 'last_activity_at'])
    .execute();
  await db.schema.createIndex('conversations_assignee').on('conversations').columns(['account_id', 'assignee_id', 'status']).execute();
  await db.schema.createIndex('conversations_contact').on('conversations').column('contact_id').execute();
  await db.schema.createIndex('conversations_team').on('conversations').columns(['team_id', 'status']).execute();

  await timestamps(
    c.id(db.schema.createTable('conversation_participants'))
      .addColumn('account_id', 'integer', (col) => col.notNull())
      .addColumn('conversation_id', 'integer', (col) => col.notNull().references('conversations.id').onDelete('cascade'))
      .addColumn('user_id', 'integer', (col) => col.notNull().references('users.id').onDelete('cascade')),
  ).execute();
  await db.schema
    .createIndex('conversation_participants_unique')
    .on('conversation_participants')
    .columns(['conversation_id', 'user_id'])
    .unique()
    .execute();

  await timestamps(
    c.id(db.schema.createTable('messages'))
      .addColumn('account_id', 'integer', (col) => col.notNull())
      .addColumn('inbox_id', 'integer', (col) => col.notNull())
      .addColumn('conversation_id', 'integer', (col) => col.notNull().references('conversations.id').onDelete('cascade'))
      .addColumn('content', 'text')
      .addColumn('message_type', 'integer', (col) => col.notNull())
      .addColumn('content_type', 'integer', (col) => col.notNull().defaultTo(0))
      .addColumn('content_attributes', json, (col) => col.notNull().defaultTo(obj))
      .addColumn('private', 'integer', (col) => col.notNull().defaultTo(0))
      .addColumn('status', 'integer', (col) => col.notNull().defaultTo(0))
      .addColumn('source_id', 'text')
      .addColumn('echo_id', 'text')
      .addColumn('sender_type', 'text')
      .addColumn('sender_id', 'integer')
      .addColumn('external_source_ids', json, (col) => col.notNull().defaultTo(obj))
      .addColumn('additional_attributes', json, (col) => col.notNull().defaultTo(obj))
      .addColumn('processed_message_content', 'text'),
  ).execute();
  await db.schema.createIndex('messages_conversation').on('messages').columns(['conversation_id', 'id']).execute();
  await db.schema.createIndex('messages_account_created').on('messages').columns(['account_id', 'created_at']).execute();
  await db.schema.createIndex('messages_source').on('messages').column('source_id').execute();

  await timestamps(
    c.id(db.schema.createTable('attachments'))
      .addColumn('account_id', 'integer', (col) => col.notNull())
      .addColumn('message_id', 'integer', (col) => col.notNull().references('messages.id').onDelete('cascade'))
      .addColumn('file_type', 'integer', (col) => col.notNull().defaultTo(0))
      .addColumn('external_url', 'text')
      .addColumn('coordinates_lat', 'real', (col) => col.notNull().defaultTo(0))
      .addColumn('coordinates_long', 'real', (col) => col.notNull().defaultTo(0))
      .addColumn('fallback_title', 'text')
      .addColumn('extension', 'text')
      .addColumn('meta', json, (col) => col.notNull().defaultTo(obj))
      .addColumn('file_key', 'text')
      .addColumn('file_name', 'text')
      .addColumn('content_type', 'text')
      .addColumn('byte_size', 'integer'),
  ).execute();
  await db.schema.createIndex('attachments_message').on('attachments').column('message_id').execute();
}
