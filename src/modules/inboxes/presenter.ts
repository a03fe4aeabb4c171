import type { Db } from '../../context.js';
import { parseJson, type JsonObject } from '../../db/json.js';
import type { Row } from '../../db/types.js';
import { bool } from '../../db/time.js';
import {
  CHANNEL_API,
  CHANNEL_WEB_WIDGET,
  REPLY_TIMES,
  SENDER_NAME_TYPES,
  WIDGET_FEATURE_FLAGS,
  workingHoursOf,
  type ApiChannelRow,
  type InboxRow,
  type WebWidgetChannelRow,
  type WorkingHourRow,
} from './service.js';

export interface InboxPresentOptions {
  /** Current.account_user&.administrator? — administrators also see the channel's hmac_token. */
  administrator?: boolean;
  /** FRONTEND_URL, baked into the web widget's embed script. */
  frontendUrl?: string;
}

/** Channel::WebWidget#web_widget_script, character for character. */
export function webWidgetScript(frontendUrl: string, websiteToken: string): string {
  return `
    <script>
      (function(d,t) {
        var BASE_URL="${frontendUrl}";
        var g=d.createElement(t),s=d.getElementsByTagName(t)[0];
        g.src=BASE_URL+"/packs/js/sdk.js";
        g.async = true;
        s.parentNode.insertBefore(g,s);
        g.onload=function(){
          window.chatwootSDK.run({
            websiteToken: '${websiteToken}',
            baseUrl: BASE_URL
          })
        }
      })(document,"script");
    </script>
    `;
}

/** FlagShihTzu's selected_feature_flags: the names of the set bits, in flag order. */
export function selectedFeatureFlags(bits: number): string[] {
  return WIDGET_FEATURE_FLAGS.filter((_, i) => (bits & (1 << i)) !== 0);
}

/** OutOfOffisable#weekly_schedule. */
export function presentWorkingHour(h: WorkingHourRow): Record<string, unknown> {
  return {
    day_of_week: h.day_of_week,
    closed_all_day: bool(h.closed_all_day),
    open_hour: h.open_hour,
    open_minutes: h.open_minutes,
    close_hour: h.close_hour,
    close_minutes: h.close_minutes,
    open_all_day: bool(h.open_all_day),
  };
}

type LoadedChannel = { kind: 'api'; row: ApiChannelRow } | { kind: 'web_widget'; row: WebWidgetChannelRow } | null;

function render(inbox: InboxRow, channel: LoadedChannel, hours: WorkingHourRow[], options: InboxPresentOptions): Record<string, unknown> {
  const widget = channel?.kind === 'web_widget' ? channel.row : null;
  const api = channel?.kind === 'api' ? channel.row : null;
  const out: Record<string, unknown> = {
    id: inbox.id,
    avatar_url: inbox.avatar_url ?? '',
    channel_id: inbox.channel_id,
    name: inbox.name,
    channel_type: inbox.channel_type,
    greeting_enabled: bool(inbox.greeting_enabled),
    greeting_message: inbox.greeting_message,
    working_hours_enabled: bool(inbox.working_hours_enabled),
    enable_email_collect: bool(inbox.enable_email_collect),
    csat_survey_enabled: bool(inbox.csat_survey_enabled),
    csat_config: parseJson<JsonObject>(inbox.csat_config, {}),
    enable_auto_assignment: bool(inbox.enable_auto_assignment),
    auto_assignment_config: parseJson<JsonObject>(inbox.auto_assignment_config, {}),
    out_of_office_message: inbox.out_of_office_message,
    working_hours: hours.map(presentWorkingHour),
    timezone: inbox.timezone,
    callback_webhook_url: null,
    allow_messages_after_resolved: bool(inbox.allow_messages_after_resolved),
    lock_to_single_conversation: bool(inbox.lock_to_single_conversation),
    sender_name_type: SENDER_NAME_TYPES[inbox.sender_name_type] ?? 'friendly',
    business_name: inbox.business_name,
    // Web widget attributes; Chatwoot renders them (as null) for every channel type.
    allowed_domains: widget ? widget.allowed_domains : null,
    widget_color: widget ? widget.widget_color : null,
    website_url: widget ? widget.website_url : null,
    hmac_mandatory: widget ? bool(widget.hmac_mandatory) : api ? bool(api.hmac_mandatory) : null,
    welcome_title: widget ? widget.welcome_title : null,
    welcome_tagline: widget ? widget.welcome_tagline : null,
    web_widget_script: widget ? webWidgetScript(options.frontendUrl ?? '', widget.website_token) : null,
    website_token: widget ? widget.website_token : null,
    selected_feature_flags: widget ? selectedFeatureFlags(widget.feature_flags) : null,
    reply_time: widget ? (REPLY_TIMES[widget.reply_time] ?? 'in_a_few_minutes') : null,
  };
  if (widget) {
    if (options.administrator) out.hmac_token = widget.hmac_token;
    out.pre_chat_form_enabled = bool(widget.pre_chat_form_enabled);
    out.pre_chat_form_options = parseJson<JsonObject>(widget.pre_chat_form_options, {});
    out.continuity_via_email = bool(widget.continuity_via_email);
  }
  out.messaging_service_sid = null;
  out.phone_number = null;
  if (api) {
    if (options.administrator) out.hmac_token = api.hmac_token;
    out.webhook_url = api.webhook_url;
    out.inbox_identifier = api.identifier;
    out.additional_attributes = parseJson<JsonObject>(api.additional_attributes, {});
  }
  out.provider = null;
  return out;
}

/** api/v1/models/_inbox.json.jbuilder for many inboxes, with a fixed number of queries. */
export async function presentInboxes(db: Db, inboxes: InboxRow[], options: InboxPresentOptions = {}): Promise<Record<string, unknown>[]> {
  if (inboxes.length === 0) return [];
  const apiIds = inboxes.filter((i) => i.channel_type === CHANNEL_API).map((i) => i.channel_id);
  const widgetIds = inboxes.filter((i) => i.channel_type === CHANNEL_WEB_WIDGET).map((i) => i.channel_id);
  const [apis, widgets, hours] = await Promise.all([
    apiIds.length ? db.selectFrom('channel_api').selectAll().where('id', 'in', apiIds).execute() : Promise.resolve([]),
    widgetIds.length ? db.selectFrom('channel_web_widgets').selectAll().where('id', 'in', widgetIds).execute() : Promise.resolve([]),
    workingHoursOf(db, inboxes.map((i) => i.id)),
  ]);
  const apiById = new Map(apis.map((c) => [c.id, c]));
  const widgetById = new Map(widgets.map((c) => [c.id, c]));
  const hoursByInbox = new Map<number, WorkingHourRow[]>();
  for (const h of hours) {
    const list = hoursByInbox.get(h.inbox_id) ?? [];
    list.push(h);
    hoursByInbox.set(h.inbox_id, list);
  }
  return inboxes.map((inbox) => {
    let channel: LoadedChannel = null;
    if (inbox.channel_type === CHANNEL_API) {
      const row = apiById.get(inbox.channel_id);
      if (row) channel = { kind: 'api', row };
    } else if (inbox.channel_type === CHANNEL_WEB_WIDGET) {
      const row = widgetById.get(inbox.channel_id);
      if (row) channel = { kind: 'web_widget', row };
    }
    return render(inbox, channel, hoursByInbox.get(inbox.id) ?? [], options);
  });
}

/** api/v1/models/_inbox.json.jbuilder */
export async function presentInbox(db: Db, inbox: Row<'inboxes'>, options: InboxPresentOptions = {}): Promise<Record<string, unknown>> {
  const [out] = await presentInboxes(db, [inbox], options);
  return out;
}
