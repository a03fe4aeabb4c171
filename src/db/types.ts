import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

/**
 * Row types for every table. Conventions (see db/migrations/helpers.ts):
 * times are epoch milliseconds, booleans are 0/1, JSON columns are `Json`
 * (a string on SQLite, a parsed value on PostgreSQL; read them with parseJson).
 */
export type Json = unknown;
type Id = Generated<number>;
type Stamp = { created_at: number; updated_at: number };

export interface AccountsTable extends Stamp {
  id: Id;
  name: string;
  locale: Generated<string>;
  domain: string | null;
  support_email: string | null;
  status: Generated<number>;
  features: Generated<Json>;
  limits: Generated<Json>;
  custom_attributes: Generated<Json>;
  settings: Generated<Json>;
  auto_resolve_duration: number | null;
  last_display_id: Generated<number>;
}

export interface UsersTable extends Stamp {
  id: Id;
  provider: Generated<string>;
  uid: string;
  email: string;
  encrypted_password: Generated<string>;
  name: string;
  display_name: string | null;
  pubsub_token: string;
  availability: Generated<number>;
  ui_settings: Generated<Json>;
  custom_attributes: Generated<Json>;
  type: string | null;
  message_signature: string | null;
  avatar_url: string | null;
  confirmed_at: number | null;
  sign_in_count: Generated<number>;
  last_sign_in_at: number | null;
}

export interface AccountUsersTable extends Stamp {
  id: Id;
  account_id: number;
  user_id: number;
  role: Generated<number>;
  inviter_id: number | null;
  active_at: number | null;
  availability: Generated<number>;
  auto_offline: Generated<number>;
}

export interface AccessTokensTable extends Stamp {
  id: Id;
  owner_type: 'User' | 'AgentBot' | 'PlatformApp';
  owner_id: number;
  token: string;
  token_digest: string;
}

export interface UserSessionsTable extends Stamp {
  id: Id;
  user_id: number;
  client: string;
  token_digest: string;
  expires_at: number;
}

export interface SsoTokensTable {
  token_digest: string;
  user_id: number;
  expires_at: number;
}

export interface PlatformAppsTable extends Stamp {
  id: Id;
  name: string;
}

export interface PlatformAppPermissiblesTable extends Stamp {
  id: Id;
  platform_app_id: number;
  permissible_type: 'Account' | 'User' | 'AgentBot';
  permissible_id: number;
}

export interface AgentBotsTable extends Stamp {
  id: Id;
  name: string;
  description: string | null;
  outgoing_url: string | null;
  account_id: number | null;
  bot_type: Generated<number>;
  bot_config: Generated<Json>;
  avatar_url: string | null;
}

export interface ChannelApiTable extends Stamp {
  id: Id;
  account_id: number;
  webhook_url: string | null;
  identifier: string;
  hmac_token: string;
  hmac_mandatory: Generated<number>;
  additional_attributes: Generated<Json>;
}

export interface ChannelWebWidgetsTable extends Stamp {
  id: Id;
  account_id: number;
  website_url: string | null;
  website_token: string;
  widget_color: Generated<string>;
  welcome_title: string | null;
  welcome_tagline: string | null;
  feature_flags: Generated<number>;
  reply_time: Generated<number>;
  hmac_token: string;
  hmac_mandatory: Generated<number>;
  pre_chat_form_enabled: Generated<number>;
  pre_chat_form_options: Generated<Json>;
  continuity_via_email: Generated<number>;
  allowed_domains: Generated<string>;
}

export interface InboxesTable extends Stamp {
  id: Id;
  account_id: number;
  channel_type: string;
  channel_id: number;
  name: string;
  avatar_url: string | null;
  enable_auto_assignment: Generated<number>;
  auto_assignment_config: Generated<Json>;
  greeting_enabled: Generated<number>;
  greeting_message: string | null;
  email_address: string | null;
  working_hours_enabled: Generated<number>;
  out_of_office_message: string | null;
  timezone: Generated<string>;
  enable_email_collect: Generated<number>;
  csat_survey_enabled: Generated<number>;
  csat_config: Generated<Json>;
  allow_messages_after_resolved: Generated<number>;
  lock_to_single_conversation: Generated<number>;
  sender_name_type: Generated<number>;
  business_name: string | null;
}

export interface WorkingHoursTable extends Stamp {
  id: Id;
  inbox_id: number;
  account_id: number;
  day_of_week: number;
  closed_all_day: Generated<number>;
  open_hour: number | null;
  open_minutes: number | null;
  close_hour: number | null;
  close_minutes: number | null;
  open_all_day: Generated<number>;
}

export interface InboxMembersTable extends Stamp {
  id: Id;
  inbox_id: number;
  user_id: number;
}

export interface AgentBotInboxesTable extends Stamp {
  id: Id;
  inbox_id: number;
  agent_bot_id: number;
  account_id: number;
  status: Generated<number>;
}

export interface TeamsTable extends Stamp {
  id: Id;
  account_id: number;
  name: string;
  description: string | null;
  allow_auto_assign: Generated<number>;
}

export interface TeamMembersTable extends Stamp {
  id: Id;
  team_id: number;
  user_id: number;
}

export interface LabelsTable extends Stamp {
  id: Id;
  account_id: number;
  title: string;
  description: string | null;
  color: Generated<string>;
  show_on_sidebar: number | null;
}

export interface TaggingsTable {
  account_id: number;
  taggable_type: 'Conversation' | 'Contact';
  taggable_id: number;
  name: string;
  created_at: number;
}

export interface CannedResponsesTable extends Stamp {
  id: Id;
  account_id: number;
  short_code: string;
  content: string;
}

export interface CustomAttributeDefinitionsTable extends Stamp {
  id: Id;
  account_id: number;
  attribute_display_name: string;
  attribute_key: string;
  attribute_display_type: Generated<number>;
  attribute_model: Generated<number>;
  attribute_description: string | null;
  attribute_values: Generated<Json>;
  default_value: string | null;
  regex_pattern: string | null;
  regex_cue: string | null;
}

export interface CustomFiltersTable extends Stamp {
  id: Id;
  account_id: number;
  user_id: number;
  name: string;
  filter_type: Generated<number>;
  query: Generated<Json>;
}

export interface ContactsTable extends Stamp {
  id: Id;
  account_id: number;
  name: Generated<string>;
  middle_name: Generated<string>;
  last_name: Generated<string>;
  email: string | null;
  phone_number: string | null;
  identifier: string | null;
  avatar_url: string | null;
  additional_attributes: Generated<Json>;
  custom_attributes: Generated<Json>;
  last_activity_at: number | null;
  contact_type: Generated<number>;
  location: Generated<string>;
  country_code: Generated<string>;
  blocked: Generated<number>;
  company_id: number | null;
}

export interface ContactInboxesTable extends Stamp {
  id: Id;
  contact_id: number;
  inbox_id: number;
  source_id: string;
  hmac_verified: Generated<number>;
  pubsub_token: string;
}

export interface NotesTable extends Stamp {
  id: Id;
  account_id: number;
  contact_id: number;
  user_id: number | null;
  content: string;
}

export interface ContactImportsTable extends Stamp {
  id: Id;
  account_id: number;
  user_id: number | null;
  /** 0 pending, 1 processing, 2 completed, 3 failed (DataImport.statuses). */
  status: Generated<number>;
  file_name: string | null;
  file_content: string;
  total_records: number | null;
  processed_records: number | null;
  failed_records: number | null;
  processing_errors: Generated<Json>;
}

export interface ContactExportsTable extends Stamp {
  id: Id;
  account_id: number;
  user_id: number | null;
  /** 0 pending, 1 processing, 2 completed, 3 failed. */
  status: Generated<number>;
  column_names: Generated<Json>;
  params: Generated<Json>;
  file_name: string | null;
  file_content: string | null;
  error: string | null;
  total_records: number | null;
}

export interface ConversationsTable extends Stamp {
  id: Id;
  account_id: number;
  inbox_id: number;
  display_id: number;
  uuid: string;
  status: Generated<number>;
  assignee_id: number | null;
  assignee_agent_bot_id: number | null;
  contact_id: number;
  contact_inbox_id: number | null;
  team_id: number | null;
  campaign_id: number | null;
  identifier: string | null;
  priority: number | null;
  sla_policy_id: number | null;
  /** Moves on any change that alters the conversation's list item (migration 0610). */
  render_version: Generated<number>;
  additional_attributes: Generated<Json>;
  custom_attributes: Generated<Json>;
  cached_label_list: Generated<string>;
  /** OR of its labels' bits, a prefilter for the list's labels filter (migration 0660). */
  label_bits: Generated<number>;
  snoozed_until: number | null;
  last_activity_at: number;
  waiting_since: number | null;
  first_reply_created_at: number | null;
  contact_last_seen_at: number | null;
  agent_last_seen_at: number | null;
  assignee_last_seen_at: number | null;
}

export interface ConversationParticipantsTable extends Stamp {
  id: Id;
  account_id: number;
  conversation_id: number;
  user_id: number;
}

export interface MessagesTable extends Stamp {
  id: Id;
  account_id: number;
  inbox_id: number;
  conversation_id: number;
  content: string | null;
  message_type: number;
  content_type: Generated<number>;
  content_attributes: Generated<Json>;
  private: Generated<number>;
  status: Generated<number>;
  source_id: string | null;
  echo_id: string | null;
  sender_type: string | null;
  sender_id: number | null;
  external_source_ids: Generated<Json>;
  additional_attributes: Generated<Json>;
  processed_message_content: string | null;
}

export interface AttachmentsTable extends Stamp {
  id: Id;
  account_id: number;
  message_id: number;
  file_type: Generated<number>;
  external_url: string | null;
  coordinates_lat: Generated<number>;
  coordinates_long: Generated<number>;
  fallback_title: string | null;
  extension: string | null;
  meta: Generated<Json>;
  file_key: string | null;
  file_name: string | null;
  content_type: string | null;
  byte_size: number | null;
}

export interface ConversationDraftsTable {
  conversation_id: number;
  account_id: number;
  message: string;
  updated_at: number;
}

export interface InboxRoundRobinTable {
  inbox_id: number;
  user_id: number;
  position: number;
}

export interface RenderEpochsTable {
  id: number;
  v: number;
}

/** PostgreSQL only (migration 0720): an epoch kept as the sum of its stripes. */
export interface CacheEpochStripesTable {
  epoch: number;
  stripe: number;
  v: number;
}

export interface Database {
  render_epochs: RenderEpochsTable;
  cache_epochs: RenderEpochsTable;
  cache_epoch_stripes: CacheEpochStripesTable;
  accounts: AccountsTable;
  users: UsersTable;
  account_users: AccountUsersTable;
  access_tokens: AccessTokensTable;
  user_sessions: UserSessionsTable;
  sso_tokens: SsoTokensTable;
  platform_apps: PlatformAppsTable;
  platform_app_permissibles: PlatformAppPermissiblesTable;
  agent_bots: AgentBotsTable;
  channel_api: ChannelApiTable;
  channel_web_widgets: ChannelWebWidgetsTable;
  inboxes: InboxesTable;
  working_hours: WorkingHoursTable;
  inbox_members: InboxMembersTable;
  agent_bot_inboxes: AgentBotInboxesTable;
  teams: TeamsTable;
  team_members: TeamMembersTable;
  labels: LabelsTable;
  taggings: TaggingsTable;
  canned_responses: CannedResponsesTable;
  custom_attribute_definitions: CustomAttributeDefinitionsTable;
  custom_filters: CustomFiltersTable;
  contacts: ContactsTable;
  contact_inboxes: ContactInboxesTable;
  notes: NotesTable;
  contact_imports: ContactImportsTable;
  contact_exports: ContactExportsTable;
  conversations: ConversationsTable;
  conversation_participants: ConversationParticipantsTable;
  messages: MessagesTable;
  attachments: AttachmentsTable;
  conversation_drafts: ConversationDraftsTable;
  inbox_round_robin: InboxRoundRobinTable;
}

export type Row<T extends keyof Database> = Selectable<Database[T]>;
export type NewRow<T extends keyof Database> = Insertable<Database[T]>;
export type RowUpdate<T extends keyof Database> = Updateable<Database[T]>;
