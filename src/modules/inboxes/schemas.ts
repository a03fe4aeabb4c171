import { Type, type Static } from '@sinclair/typebox';

/**
 * Request schemas. Rails params are loose: strings arrive for booleans, "null" for nil, and
 * unknown keys are ignored. Types here are as loose as Chatwoot's and the service enforces
 * the rules (422 in Chatwoot's shapes); only plainly wrong types get Fastify's 400.
 */

/** A string that may be null; a type array keeps Ajv from coercing null into "". */
const NullableString = Type.Unsafe<string | null>({ type: ['string', 'null'] });
const NullableInteger = Type.Unsafe<number | null>({ type: ['integer', 'null'] });

export const AccountParams = Type.Object({ account_id: Type.String() });

export const InboxParams = Type.Object({
  account_id: Type.String(),
  id: Type.String(),
});
export type InboxParams = Static<typeof InboxParams>;

export const InboxMembersParams = Type.Object({
  account_id: Type.String(),
  inbox_id: Type.String(),
});

export const ChannelBody = Type.Object(
  {
    type: Type.Optional(NullableString),
    // Channel::Api
    webhook_url: Type.Optional(NullableString),
    hmac_mandatory: Type.Optional(Type.Boolean()),
    additional_attributes: Type.Optional(Type.Unknown()),
    // Channel::WebWidget
    website_url: Type.Optional(NullableString),
    widget_color: Type.Optional(NullableString),
    welcome_title: Type.Optional(NullableString),
    welcome_tagline: Type.Optional(NullableString),
    reply_time: Type.Optional(Type.Unknown()),
    pre_chat_form_enabled: Type.Optional(Type.Boolean()),
    pre_chat_form_options: Type.Optional(Type.Unknown()),
    continuity_via_email: Type.Optional(Type.Boolean()),
    allowed_domains: Type.Optional(NullableString),
    selected_feature_flags: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: true },
);
export type ChannelBody = Static<typeof ChannelBody>;

export const WorkingHourBody = Type.Object(
  {
    day_of_week: Type.Optional(NullableInteger),
    closed_all_day: Type.Optional(Type.Boolean()),
    open_hour: Type.Optional(NullableInteger),
    open_minutes: Type.Optional(NullableInteger),
    close_hour: Type.Optional(NullableInteger),
    close_minutes: Type.Optional(NullableInteger),
    open_all_day: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: true },
);
export type WorkingHourBody = Static<typeof WorkingHourBody>;

const inboxFields = {
  name: Type.Optional(NullableString),
  avatar_url: Type.Optional(NullableString),
  greeting_enabled: Type.Optional(Type.Boolean()),
  greeting_message: Type.Optional(NullableString),
  enable_email_collect: Type.Optional(Type.Boolean()),
  csat_survey_enabled: Type.Optional(Type.Boolean()),
  csat_config: Type.Optional(Type.Unknown()),
  enable_auto_assignment: Type.Optional(Type.Boolean()),
  auto_assignment_config: Type.Optional(Type.Unknown()),
  working_hours_enabled: Type.Optional(Type.Boolean()),
  out_of_office_message: Type.Optional(NullableString),
  timezone: Type.Optional(NullableString),
  allow_messages_after_resolved: Type.Optional(Type.Boolean()),
  lock_to_single_conversation: Type.Optional(Type.Boolean()),
  sender_name_type: Type.Optional(NullableString),
  business_name: Type.Optional(NullableString),
  channel: Type.Optional(ChannelBody),
};

export const InboxCreateBody = Type.Object(inboxFields, { additionalProperties: true });
export type InboxCreateBody = Static<typeof InboxCreateBody>;

export const InboxUpdateBody = Type.Object(
  { ...inboxFields, working_hours: Type.Optional(Type.Array(WorkingHourBody)) },
  { additionalProperties: true },
);
export type InboxUpdateBody = Static<typeof InboxUpdateBody>;

export const SetAgentBotBody = Type.Object(
  { agent_bot: Type.Optional(Type.Unknown()) },
  { additionalProperties: true },
);

/** inbox_id and user_ids are checked by the service so bad ids get Chatwoot's 404 / 422, not a 400. */
export const InboxMembersBody = Type.Object(
  {
    inbox_id: Type.Optional(Type.Unknown()),
    user_ids: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: true },
);
export type InboxMembersBody = Static<typeof InboxMembersBody>;

