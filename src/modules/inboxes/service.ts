import type { Db } from '../../context.js';
import { isPlainObject, parseJson, toJson, type JsonObject } from '../../db/json.js';
import type { Row } from '../../db/types.js';
import { flag, now } from '../../db/time.js';
import { notFound, RecordErrors, type HttpError } from '../../lib/errors.js';
import { isRecordId, looseRecordId } from '../../lib/params.js';
import { secureToken } from '../../lib/random.js';
import type { ChannelBody, InboxCreateBody, InboxUpdateBody, WorkingHourBody } from './schemas.js';

export type InboxRow = Row<'inboxes'>;
export type ApiChannelRow = Row<'channel_api'>;
export type WebWidgetChannelRow = Row<'channel_web_widgets'>;
export type ChannelRow = ApiChannelRow | WebWidgetChannelRow;
export type WorkingHourRow = Row<'working_hours'>;

export const CHANNEL_API = 'Channel::Api';
export const CHANNEL_WEB_WIDGET = 'Channel::WebWidget';

/** The channel types Chatwoot's inboxes controller creates; Parley implements the first two. */
const SUPPORTED_CHANNELS: Record<string, string> = { api: CHANNEL_API, web_widget: CHANNEL_WEB_WIDGET };
const CHATWOOT_ONLY_CHANNELS = ['email', 'line', 'telegram', 'whatsapp', 'sms'];

export const SENDER_NAME_TYPES = ['friendly', 'professional'] as const;
export const REPLY_TIMES = ['in_a_few_minutes', 'in_a_few_hours', 'in_a_day'] as const;
/** Channel::WebWidget's FlagShihTzu flags, in bit order (1, 2, 4, 8). */
export const WIDGET_FEATURE_FLAGS = ['attachments', 'emoji_picker', 'end_conversation', 'use_inbox_avatar_for_bot'] as const;

const URL_LENGTH_LIMIT = 2048;
const MESSAGE_MAX_LENGTH = 10_000;

/** Channel::WebWidget#validate_pre_chat_options: what a widget gets when no pre-chat fields are configured. */
export function defaultPreChatFormOptions(): JsonObject {
  return {
    pre_chat_message: 'Share your queries or comments here.',
    pre_chat_fields: [
      { field_type: 'standard', label: 'Email Id', name: 'emailAddress', type: 'email', required: true, enabled: false },
      { field_type: 'standard', label: 'Full name', name: 'fullName', type: 'text', required: false, enabled: false },
      { field_type: 'standard', label: 'Phone number', name: 'phoneNumber', type: 'text', required: false, enabled: false },
    ],
  };
}

// ---------------------------------------------------------------- lookups (exported)

/** The account's inbox, or 404 (another account's id included). */
export async function findInbox(db: Db, accountId: number, inboxId: number): Promise<InboxRow> {
  if (!isRecordId(inboxId)) throw notFound();
  const row = await db.selectFrom('inboxes').selectAll().where('id', '=', inboxId).where('account_id', '=', accountId).executeTakeFirst();
  if (!row) throw notFound();
  return row;
}

/** The inbox's channel row (channel_api or channel_web_widgets), null for a type Parley does not store. */
export async function inboxChannel(db: Db, inbox: Pick<InboxRow, 'channel_type' | 'channel_id'>): Promise<ChannelRow | null> {
  if (inbox.channel_type === CHANNEL_API) {
    return (await db.selectFrom('channel_api').selectAll().where('id', '=', inbox.channel_id).executeTakeFirst()) ?? null;
  }
  if (inbox.channel_type === CHANNEL_WEB_WIDGET) {
    return (await db.selectFrom('channel_web_widgets').selectAll().where('id', '=', inbox.channel_id).executeTakeFirst()) ?? null;
  }
  return null;
}

/** User ids of the inbox's members, in the order they were added. */
export async function inboxMemberUserIds(db: Db, inboxId: number): Promise<number[]> {
  const rows = await db.selectFrom('inbox_members').select('user_id').where('inbox_id', '=', inboxId).orderBy('id').execute();
  return rows.map((r) => r.user_id);
}

/** The Client API's lookup: an API inbox by its channel identifier (`inbox_identifier`). */
export async function findApiInboxByIdentifier(
  db: Db,
  identifier: string,
): Promise<{ inbox: InboxRow; channel: ApiChannelRow } | undefined> {
  if (typeof identifier !== 'string' || identifier === '' || identifier.length > 255) return undefined;
  const channel = await db.selectFrom('channel_api').selectAll().where('identifier', '=', identifier).executeTakeFirst();
  if (!channel) return undefined;
  const inbox = await db
    .selectFrom('inboxes')
    .selectAll()
    .where('channel_type', '=', CHANNEL_API)
    .where('channel_id', '=', channel.id)
    .executeTakeFirst();
  return inbox ? { inbox, channel } : undefined;
}

/** Inboxes of the account ordered as Chatwoot's `order_by_name` (lower(name)), limited to `ids` when given. */
export async function listInboxes(db: Db, accountId: number, ids: number[] | null): Promise<InboxRow[]> {
  if (ids !== null && ids.length === 0) return [];
  let q = db.selectFrom('inboxes').selectAll().where('account_id', '=', accountId);
  if (ids !== null) q = q.where('id', 'in', ids);
  const rows = await q.execute();
  return rows.sort((a, b) => {
    const x = a.name.toLowerCase();
    const y = b.name.toLowerCase();
    return x < y ? -1 : x > y ? 1 : a.id - b.id;
  });
}

export async function workingHoursOf(db: Db, inboxIds: number[]): Promise<WorkingHourRow[]> {
  if (inboxIds.length === 0) return [];
  return db.selectFrom('working_hours').selectAll().where('inbox_id', 'in', inboxIds).orderBy('day_of_week').orderBy('id').execute();
}

// ---------------------------------------------------------------- validation helpers

const isTimezone = (() => {
  const cache = new Map<string, boolean>();
  return (tz: string): boolean => {
    let ok = cache.get(tz);
    if (ok === undefined) {
      // TZInfo identifiers: names like "Asia/Kolkata", "UTC", "Etc/GMT+5" — never bare offsets.
      ok = /^[A-Za-z]/.test(tz) && tz.length <= 64;
      if (ok) {
        try {
          new Intl.DateTimeFormat('en-US', { timeZone: tz });
        } catch {
          ok = false;
        }
      }
      cache.set(tz, ok);
    }
    return ok;
  };
})();

/** Rails' enum cast for the reply_time column: a name or its integer. */
function replyTimeValue(v: unknown): number | undefined {
  if (typeof v === 'string') {
    const i = REPLY_TIMES.indexOf(v as (typeof REPLY_TIMES)[number]);
    if (i >= 0) return i;
    if (/^\d+$/.test(v) && Number(v) < REPLY_TIMES.length) return Number(v);
    return undefined;
  }
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < REPLY_TIMES.length) return v;
  return undefined;
}

function featureFlagsValue(v: unknown, errors: RecordErrors): number | undefined {
  const list = Array.isArray(v) ? v : v === null || v === '' ? [] : [v];
  let bits = 0;
  for (const item of list) {
    if (item === '' || item === null) continue; // Rails forms send [""] for "none selected"
    const i = typeof item === 'string' ? WIDGET_FEATURE_FLAGS.indexOf(item as (typeof WIDGET_FEATURE_FLAGS)[number]) : -1;
    if (i < 0) {
      errors.add('selected_feature_flags', 'is not included in the list');
      return undefined;
    }
    bits |= 1 << i;
  }
  return bits;
}

/** Only the pre-chat keys Chatwoot permits, with its defaults when no fields are configured. */
function preChatOptionsValue(v: unknown): JsonObject {
  if (!isPlainObject(v)) return defaultPreChatFormOptions();
  const out: JsonObject = {};
  if (v.pre_chat_message !== undefined) out.pre_chat_message = v.pre_chat_message;
  if (v.require_email !== undefined) out.require_email = v.require_email;
  const fields = Array.isArray(v.pre_chat_fields) ? v.pre_chat_fields.filter(isPlainObject) : [];
  if (fields.length === 0) return defaultPreChatFormOptions();
  out.pre_chat_fields = fields;
  return out;
}

// ---------------------------------------------------------------- channels

interface ChannelWrite {
  values: Record<string, unknown>;
}

function apiChannelValues(input: ChannelBody, errors: RecordErrors): ChannelWrite {
  const values: Record<string, unknown> = {};
  if (input.webhook_url !== undefined) {
    if (input.webhook_url !== null && input.webhook_url.length > URL_LENGTH_LIMIT) {
      errors.add('webhook_url', `is too long (maximum is ${URL_LENGTH_LIMIT} characters)`);
    }
    values.webhook_url = input.webhook_url;
  }
  if (input.hmac_mandatory !== undefined) values.hmac_mandatory = flag(input.hmac_mandatory);
  if (input.additional_attributes !== undefined) {
    const attrs = input.additional_attributes === null ? {} : input.additional_attributes;
    if (!isPlainObject(attrs)) errors.add('additional_attributes', 'must be an object');
    else {
      const window = attrs.agent_reply_time_window;
      const blank = window === undefined || window === null || window === '';
      if (!blank && !(parseInt(String(window), 10) > 0)) {
        errors.add('agent_reply_time_window', 'agent_reply_time_window must be greater than 0');
      }
      values.additional_attributes = toJson(attrs);
    }
  }
  return { values };
}

function webWidgetValues(input: ChannelBody, errors: RecordErrors, existing?: WebWidgetChannelRow): ChannelWrite {
  const values: Record<string, unknown> = {};
  const websiteUrl = input.website_url !== undefined ? input.website_url : existing?.website_url;
  if (typeof websiteUrl !== 'string' || websiteUrl.trim() === '') errors.add('website_url', "can't be blank");
  if (input.website_url !== undefined) values.website_url = input.website_url;
  if (input.widget_color !== undefined) {
    if (input.widget_color === null || input.widget_color.trim() === '') errors.add('widget_color', "can't be blank");
    values.widget_color = input.widget_color;
  }
  for (const key of ['welcome_title', 'welcome_tagline'] as const) {
    if (input[key] !== undefined) values[key] = input[key];
  }
  if (input.allowed_domains !== undefined) values.allowed_domains = input.allowed_domains ?? '';
  if (input.reply_time !== undefined) {
    const v = input.reply_time === null ? 0 : replyTimeValue(input.reply_time);
    if (v === undefined) errors.add('reply_time', 'is not included in the list');
    values.reply_time = v;
  }
  for (const key of ['pre_chat_form_enabled', 'continuity_via_email', 'hmac_mandatory'] as const) {
    if (input[key] !== undefined) values[key] = flag(input[key]);
  }
  if (input.pre_chat_form_options !== undefined) {
    if (input.pre_chat_form_options !== null && !isPlainObject(input.pre_chat_form_options)) {
      errors.add('pre_chat_form_options', 'must be an object');
    }
    values.pre_chat_form_options = toJson(preChatOptionsValue(input.pre_chat_form_options));
  } else if (!existing) {
    values.pre_chat_form_options = toJson(defaultPreChatFormOptions());
  } else {
    const current = parseJson<JsonObject>(existing.pre_chat_form_options, {});
    const fields = current.pre_chat_fields;
    if (!Array.isArray(fields) || fields.length === 0) values.pre_chat_form_options = toJson(defaultPreChatFormOptions());
  }
  if (input.selected_feature_flags !== undefined) {
    const bits = featureFlagsValue(input.selected_feature_flags, errors);
    if (bits !== undefined) values.feature_flags = bits;
  }
  return { values };
}

/** True when the body carries an attribute the inbox's channel type may change. */
function hasChannelAttributes(channelType: string, input: ChannelBody | undefined): boolean {
  if (!input) return false;
  const keys =
    channelType === CHANNEL_API
      ? ['webhook_url', 'hmac_mandatory', 'additional_attributes']
      : [
          'website_url', 'widget_color', 'welcome_title', 'welcome_tagline', 'reply_time', 'pre_chat_form_enabled',
          'continuity_via_email', 'hmac_mandatory', 'allowed_domains', 'pre_chat_form_options', 'selected_feature_flags',
        ];
  return keys.some((k) => (input as Record<string, unknown>)[k] !== undefined);
}

// ---------------------------------------------------------------- inbox attributes

type InboxValues = Record<string, unknown>;

function inboxValues(input: InboxCreateBody | InboxUpdateBody, creating: boolean, errors: RecordErrors): InboxValues {
  const v: InboxValues = {};
  if (creating || input.name !== undefined) {
    if (typeof input.name !== 'string' || input.name.trim() === '') errors.add('name', "can't be blank");
    else v.name = input.name;
  }
  for (const key of [
    'greeting_enabled', 'enable_email_collect', 'csat_survey_enabled', 'enable_auto_assignment', 'working_hours_enabled',
    'allow_messages_after_resolved', 'lock_to_single_conversation',
  ] as const) {
    if (input[key] !== undefined) v[key] = flag(input[key]);
  }
  for (const key of ['greeting_message', 'out_of_office_message'] as const) {
    const value = input[key];
    if (value === undefined) continue;
    if (value !== null && value.length > MESSAGE_MAX_LENGTH) errors.add(key, `is too long (maximum is ${MESSAGE_MAX_LENGTH} characters)`);
    v[key] = value;
  }
  if (input.business_name !== undefined) v.business_name = input.business_name;
  if (input.avatar_url !== undefined) {
    if (input.avatar_url !== null && input.avatar_url.length > URL_LENGTH_LIMIT) {
      errors.add('avatar_url', `is too long (maximum is ${URL_LENGTH_LIMIT} characters)`);
    }
    v.avatar_url = input.avatar_url === '' ? null : input.avatar_url;
  }
  if (input.timezone !== undefined) {
    if (input.timezone === null || !isTimezone(input.timezone)) errors.add('timezone', 'is not included in the list');
    else v.timezone = input.timezone;
  }
  if (input.sender_name_type !== undefined) {
    const i = SENDER_NAME_TYPES.indexOf(input.sender_name_type as (typeof SENDER_NAME_TYPES)[number]);
    if (i < 0) errors.add('sender_name_type', 'is not included in the list');
    else v.sender_name_type = i;
  }
  if (input.auto_assignment_config !== undefined) {
    const config = input.auto_assignment_config ?? {};
    if (!isPlainObject(config)) errors.add('auto_assignment_config', 'must be an object');
    else {
      const limit = config.max_assignment_limit;
      if (limit !== undefined && limit !== null && limit !== '' && !(Number.isInteger(Number(limit)) && Number(limit) > 0)) {
        errors.add('auto_assignment_config', 'max_assignment_limit must be greater than 0');
      }
      v.auto_assignment_config = toJson(config);
    }
  }
  if (input.csat_config !== undefined) {
    const config = input.csat_config ?? {};
    if (!isPlainObject(config)) errors.add('csat_config', 'must be an object');
    else if (creating) v.csat_config = toJson(config);
    else if (Object.keys(config).length > 0) v.csat_config = toJson(formatCsatConfig(config));
  }
  return v;
}

/** The inboxes controller's format_csat_config: fills Chatwoot's defaults, keeps a template only when given. */
function formatCsatConfig(config: JsonObject): JsonObject {
  const rules = isPlainObject(config.survey_rules) ? config.survey_rules : {};
  const out: JsonObject = {
    display_type: config.display_type || 'emoji',
    message: config.message || '',
    survey_rules: { operator: rules.operator || 'contains', values: rules.values || [] },
    button_text: config.button_text || 'Please rate us',
    language: config.language || 'en',
  };
  if (isPlainObject(config.template) && Object.keys(config.template).length > 0) out.template = config.template;
  return out;
}

// ---------------------------------------------------------------- working hours

const OFFISABLE_ATTRS = ['day_of_week', 'closed_all_day', 'open_hour', 'open_minutes', 'close_hour', 'close_minutes', 'open_all_day'] as const;

function defaultWorkingHours(inboxId: number, accountId: number, t: number) {
  return [0, 1, 2, 3, 4, 5, 6].map((day) => {
    const weekend = day === 0 || day === 6;
    return {
      inbox_id: inboxId,
      account_id: accountId,
      day_of_week: day,
      closed_all_day: weekend ? 1 : 0,
      open_hour: weekend ? null : 9,
      open_minutes: weekend ? null : 0,
      close_hour: weekend ? null : 17,
      close_minutes: weekend ? null : 0,
      open_all_day: 0,
      created_at: t,
      updated_at: t,
    };
  });
}

/** WorkingHour's validations applied to the merged row; returns the values to write. */
function mergeWorkingHour(existing: WorkingHourRow, input: WorkingHourBody, errors: RecordErrors): Partial<WorkingHourRow> {
  const merged = {
    closed_all_day: input.closed_all_day !== undefined ? flag(input.closed_all_day) : existing.closed_all_day,
    open_all_day: input.open_all_day !== undefined ? flag(input.open_all_day) : existing.open_all_day,
    open_hour: input.open_hour !== undefined ? input.open_hour : existing.open_hour,
    open_minutes: input.open_minutes !== undefined ? input.open_minutes : existing.open_minutes,
    close_hour: input.close_hour !== undefined ? input.close_hour : existing.close_hour,
    close_minutes: input.close_minutes !== undefined ? input.close_minutes : existing.close_minutes,
  };
  if (merged.open_all_day) {
    merged.open_hour = 0;
    merged.open_minutes = 0;
    merged.close_hour = 23;
    merged.close_minutes = 59;
  }
  if (!merged.closed_all_day) {
    const ranges = { open_hour: 23, close_hour: 23, open_minutes: 59, close_minutes: 59 } as const;
    let complete = true;
    for (const [key, max] of Object.entries(ranges) as [keyof typeof ranges, number][]) {
      const value = merged[key];
      if (value === null || value === undefined) {
        errors.add(key, "can't be blank");
        complete = false;
      } else if (value < 0 || value > max) {
        errors.add(key, 'is not included in the list');
        complete = false;
      }
    }
    if (complete && merged.open_hour! * 60 + merged.open_minutes! >= merged.close_hour! * 60 + merged.close_minutes!) {
      errors.add('close_hour', 'Closing time cannot be before opening time');
    }
  }
  if (merged.open_all_day && merged.closed_all_day) {
    errors.addFull('base', 'open_all_day and closed_all_day cannot be true at the same time');
  }
  return merged;
}

// ---------------------------------------------------------------- create / update / delete

/** Chatwoot's answer when the channel type is missing or unknown: the inbox has no channel. */
function channelTypeError(type: unknown): HttpError {
  if (typeof type === 'string' && CHATWOOT_ONLY_CHANNELS.includes(type)) {
    return new RecordErrors()
      .addFull('channel', `Channel type '${type}' is not supported by this server (supported: api, web_widget)`)
      .toError();
  }
  return new RecordErrors().add('channel', 'must exist').toError();
}

export async function createInbox(db: Db, accountId: number, input: InboxCreateBody): Promise<InboxRow> {
  const channelInput = input.channel;
  const channelType = channelInput ? SUPPORTED_CHANNELS[String(channelInput.type ?? '')] : undefined;
  if (!channelInput || !channelType) throw channelTypeError(channelInput?.type);

  // The channel is validated (and would be saved) before the inbox, as Chatwoot does.
  const channelErrors = new RecordErrors();
  const channel = channelType === CHANNEL_API ? apiChannelValues(channelInput, channelErrors) : webWidgetValues(channelInput, channelErrors);
  channelErrors.throwIfAny();
  const errors = new RecordErrors();
  const values = inboxValues(input, true, errors);
  errors.throwIfAny();

  const t = now();
  return db.transaction().execute(async (trx) => {
    let channelId: number;
    if (channelType === CHANNEL_API) {
      const row = await trx
        .insertInto('channel_api')
        .values({ account_id: accountId, identifier: secureToken(24), hmac_token: secureToken(24), ...channel.values, created_at: t, updated_at: t })
        .returning('id')
        .executeTakeFirstOrThrow();
      channelId = row.id;
    } else {
      const row = await trx
        .insertInto('channel_web_widgets')
        .values({
          account_id: accountId,
          website_token: secureToken(24),
          hmac_token: secureToken(24),
          ...channel.values,
          created_at: t,
          updated_at: t,
        } as never)
        .returning('id')
        .executeTakeFirstOrThrow();
      channelId = row.id;
    }
    const inbox = await trx
      .insertInto('inboxes')
      .values({ account_id: accountId, channel_type: channelType, channel_id: channelId, ...(values as { name: string }), created_at: t, updated_at: t })
      .returningAll()
      .executeTakeFirstOrThrow();
    await trx.insertInto('working_hours').values(defaultWorkingHours(inbox.id, accountId, t)).execute();
    return inbox;
  });
}

export async function updateInbox(db: Db, inbox: InboxRow, input: InboxUpdateBody): Promise<InboxRow> {
  const errors = new RecordErrors();
  const values = inboxValues(input, false, errors);

  // Working hours: each entry updates the row of its day, with WorkingHour's validations.
  const hourUpdates: { id: number; values: Partial<WorkingHourRow> }[] = [];
  if (input.working_hours !== undefined) {
    const rows = await workingHoursOf(db, [inbox.id]);
    for (const entry of input.working_hours) {
      const existing = rows.find((r) => r.day_of_week === entry.day_of_week);
      if (!existing) {
        errors.add('day_of_week', 'is not included in the list');
        continue;
      }
      hourUpdates.push({ id: existing.id, values: mergeWorkingHour(existing, entry, errors) });
    }
  }

  let channelWrite: ChannelWrite | undefined;
  let channelTable: 'channel_api' | 'channel_web_widgets' | undefined;
  if (hasChannelAttributes(inbox.channel_type, input.channel)) {
    const current = await inboxChannel(db, inbox);
    if (current && inbox.channel_type === CHANNEL_API) {
      channelWrite = apiChannelValues(input.channel!, errors);
      channelTable = 'channel_api';
    } else if (current && inbox.channel_type === CHANNEL_WEB_WIDGET) {
      channelWrite = webWidgetValues(input.channel!, errors, current as WebWidgetChannelRow);
      channelTable = 'channel_web_widgets';
    }
  }
  errors.throwIfAny();

  const t = now();
  return db.transaction().execute(async (trx) => {
    const updated = await trx
      .updateTable('inboxes')
      .set({ ...values, updated_at: t })
      .where('id', '=', inbox.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    for (const h of hourUpdates) {
      const set: Record<string, unknown> = { updated_at: t };
      for (const key of OFFISABLE_ATTRS) if (key !== 'day_of_week' && h.values[key] !== undefined) set[key] = h.values[key];
      await trx.updateTable('working_hours').set(set).where('id', '=', h.id).execute();
    }
    if (channelWrite && channelTable) {
      await trx
        .updateTable(channelTable)
        .set({ ...channelWrite.values, updated_at: t } as never)
        .where('id', '=', inbox.channel_id)
        .execute();
    }
    return updated;
  });
}

/**
 * Deletes the inbox with everything that hangs off it. Foreign keys cascade members, working
 * hours, the agent-bot link, contact inboxes and conversations (and their messages); the
 * polymorphic channel row has no foreign key and goes explicitly.
 */
export async function deleteInbox(db: Db, inbox: InboxRow): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('messages').where('inbox_id', '=', inbox.id).execute();
    await trx.deleteFrom('inboxes').where('id', '=', inbox.id).execute();
    if (inbox.channel_type === CHANNEL_API) await trx.deleteFrom('channel_api').where('id', '=', inbox.channel_id).execute();
    if (inbox.channel_type === CHANNEL_WEB_WIDGET) await trx.deleteFrom('channel_web_widgets').where('id', '=', inbox.channel_id).execute();
  });
}

// ---------------------------------------------------------------- agent bot

export async function inboxAgentBot(db: Db, inboxId: number): Promise<Row<'agent_bots'> | undefined> {
  return db
    .selectFrom('agent_bot_inboxes')
    .innerJoin('agent_bots', 'agent_bots.id', 'agent_bot_inboxes.agent_bot_id')
    .selectAll('agent_bots')
    .where('agent_bot_inboxes.inbox_id', '=', inboxId)
    .executeTakeFirst();
}

/** Connects an agent bot (global or the account's own) to the inbox, or disconnects it with null. */
export async function setInboxAgentBot(db: Db, inbox: InboxRow, agentBot: unknown): Promise<void> {
  if (agentBot === undefined || agentBot === null || agentBot === '' || agentBot === 'null') {
    await db.deleteFrom('agent_bot_inboxes').where('inbox_id', '=', inbox.id).execute();
    return;
  }
  const botId = Number(agentBot);
  if (!isRecordId(botId)) throw notFound();
  const bot = await db
    .selectFrom('agent_bots')
    .select('id')
    .where('id', '=', botId)
    .where((eb) => eb.or([eb('account_id', 'is', null), eb('account_id', '=', inbox.account_id)]))
    .executeTakeFirst();
  if (!bot) throw notFound();
  const t = now();
  await db.transaction().execute(async (trx) => {
    const existing = await trx.selectFrom('agent_bot_inboxes').select('id').where('inbox_id', '=', inbox.id).executeTakeFirst();
    if (existing) {
      await trx.updateTable('agent_bot_inboxes').set({ agent_bot_id: bot.id, updated_at: t }).where('id', '=', existing.id).execute();
    } else {
      await trx
        .insertInto('agent_bot_inboxes')
        .values({ inbox_id: inbox.id, agent_bot_id: bot.id, account_id: inbox.account_id, status: 0, created_at: t, updated_at: t })
        .execute();
    }
  });
}

// ---------------------------------------------------------------- members

export interface InboxAgent {
  user: Row<'users'>;
  membership: Row<'account_users'>;
}

/** Account users among the inbox's members, in membership order (Current.account.users.where(id: members)). */
export async function inboxAgents(db: Db, inbox: InboxRow): Promise<InboxAgent[]> {
  const rows = await db
    .selectFrom('inbox_members')
    .innerJoin('account_users', (j) =>
      j.onRef('account_users.user_id', '=', 'inbox_members.user_id').on('account_users.account_id', '=', inbox.account_id),
    )
    .select(['inbox_members.user_id', 'account_users.id as membership_id'])
    .where('inbox_members.inbox_id', '=', inbox.id)
    .orderBy('inbox_members.id')
    .execute();
  return loadAgents(db, rows.map((r) => r.membership_id));
}

async function loadAgents(db: Db, membershipIds: number[]): Promise<InboxAgent[]> {
  if (membershipIds.length === 0) return [];
  const memberships = await db.selectFrom('account_users').selectAll().where('id', 'in', membershipIds).execute();
  const users = await db
    .selectFrom('users')
    .selectAll()
    .where('id', 'in', memberships.map((m) => m.user_id))
    .execute();
  const byUser = new Map(users.map((u) => [u.id, u]));
  const byId = new Map(memberships.map((m) => [m.id, m]));
  const out: InboxAgent[] = [];
  for (const id of membershipIds) {
    const membership = byId.get(id);
    const user = membership && byUser.get(membership.user_id);
    if (membership && user) out.push({ user, membership });
  }
  return out;
}

/** Inbox#assignable_agents: the members plus the account's administrators, once each. */
export async function assignableAgents(db: Db, inbox: InboxRow): Promise<InboxAgent[]> {
  const members = await inboxAgents(db, inbox);
  const admins = await db
    .selectFrom('account_users')
    .select('id')
    .where('account_id', '=', inbox.account_id)
    .where('role', '=', 1)
    .orderBy('id')
    .execute();
  const seen = new Set(members.map((m) => m.membership.id));
  const extra = await loadAgents(
    db,
    admins.map((a) => a.id).filter((id) => !seen.has(id)),
  );
  return [...members, ...extra];
}

/** user_ids as Rails would read them: integers, numeric strings; anything else is not a user. */
function parseUserIds(raw: unknown): (number | null)[] {
  const list = Array.isArray(raw) ? raw : raw === undefined || raw === null ? [] : [raw];
  return list.map((v) => {
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
    return looseRecordId(n);
  });
}

/** Resolves the inbox of an inbox_members request: a missing or foreign id is a 404. */
export async function findInboxParam(db: Db, accountId: number, raw: unknown): Promise<InboxRow> {
  const id = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw) : NaN;
  return findInbox(db, accountId, id);
}

/** Every id must be a user of the account, else Chatwoot's 422 "User must exist". */
async function accountUserIds(db: Db, accountId: number, raw: unknown): Promise<number[]> {
  const ids = parseUserIds(raw);
  const wanted = [...new Set(ids.filter((i): i is number => i !== null))];
  const found = wanted.length
    ? await db.selectFrom('account_users').select('user_id').where('account_id', '=', accountId).where('user_id', 'in', wanted).execute()
    : [];
  const known = new Set(found.map((r) => r.user_id));
  if (ids.some((i) => i === null || !known.has(i))) throw new RecordErrors().add('user', 'must exist').toError();
  return wanted;
}

async function addMembers(trx: Db, inboxId: number, userIds: number[], t: number): Promise<void> {
  if (userIds.length === 0) return;
  await trx
    .insertInto('inbox_members')
    .values(userIds.map((user_id) => ({ inbox_id: inboxId, user_id, created_at: t, updated_at: t })))
    .execute();
}

/** POST /inbox_members: adds the users that are not members yet. */
export async function addInboxMembers(db: Db, inbox: InboxRow, rawUserIds: unknown): Promise<void> {
  const ids = await accountUserIds(db, inbox.account_id, rawUserIds);
  const t = now();
  await db.transaction().execute(async (trx) => {
    const current = new Set(await inboxMemberUserIds(trx, inbox.id));
    await addMembers(trx, inbox.id, ids.filter((id) => !current.has(id)), t);
  });
}

/** PATCH /inbox_members: the inbox's members become exactly the given users. */
export async function replaceInboxMembers(db: Db, inbox: InboxRow, rawUserIds: unknown): Promise<void> {
  const ids = await accountUserIds(db, inbox.account_id, rawUserIds);
  const t = now();
  await db.transaction().execute(async (trx) => {
    const current = await inboxMemberUserIds(trx, inbox.id);
    const keep = new Set(ids);
    const currentSet = new Set(current);
    await addMembers(trx, inbox.id, ids.filter((id) => !currentSet.has(id)), t);
    const remove = current.filter((id) => !keep.has(id));
    if (remove.length) await trx.deleteFrom('inbox_members').where('inbox_id', '=', inbox.id).where('user_id', 'in', remove).execute();
  });
}

/** DELETE /inbox_members: removes the given members; an id that is not a member is a 404. */
export async function removeInboxMembers(db: Db, inbox: InboxRow, rawUserIds: unknown): Promise<void> {
  const ids = parseUserIds(rawUserIds);
  await db.transaction().execute(async (trx) => {
    const current = new Set(await inboxMemberUserIds(trx, inbox.id));
    if (ids.some((id) => id === null || !current.has(id))) throw notFound();
    if (ids.length === 0) return;
    await trx
      .deleteFrom('inbox_members')
      .where('inbox_id', '=', inbox.id)
      .where('user_id', 'in', ids as number[])
      .execute();
  });
}
