import { CompiledQuery } from 'kysely';
import type { Db } from '../../context.js';
import { RENDER_BUMPED_SETTING } from '../../db/migrations/0670_message_render_once.js';
import { onClientOfItsOwn } from '../../db/pg-pipeline.js';
import type { ConversationAccess } from '../conversations/access.js';
import type { ConversationRow, MessageRow } from './service.js';

/**
 * PostgreSQL: the caller's own reply (an outgoing message of its user or bot, no files) as one
 * statement, outside any transaction: found, locked, authorized, checked against the flood limit,
 * inserted and booked on its conversation at once.
 *
 * The transaction it replaces needed two writes to its PostgreSQL connection (BEGIN with the
 * locked read, then the insert, the update and COMMIT, which depend on that read), each waking a
 * backend: counted with strace in the reply scenario, 2.6 socket writes a reply, 37 % of the Node
 * process's busy time, and five statements for the backend to start and finish. As one statement,
 * which PostgreSQL runs as its own transaction, it costs one write on a pooled client of its own
 * (onClientOfItsOwn: it may wait for the conversation's row lock, and must not hold up the turn's
 * shared queries meanwhile). Measured in bench/README.md: the Node process's CPU a reply about 40 %
 * lower, more replies a second in every round.
 *
 * It decides what messages/service.ts decides for such a message, in SQL:
 * - 404 when the account has no such conversation; 401 unless the caller may see it (`access`,
 *   conversations/access.ts conversationAllows: every inbox, one of the caller's inboxes, or
 *   the conversation's team); 422 "Too many messages" when the 200th newest message of the
 *   conversation is less than a minute old (assertNotFlooding). Nothing is written then.
 * - The bookkeeping of an outgoing message (applyMessageBookkeeping): the first human reply sets
 *   first_reply_created_at and clears waiting_since; otherwise a public human or bot reply clears
 *   waiting_since. "First" counts the human messages among the conversation's first 100 outgoing
 *   public ones, the new message included, as the transaction's `earlier` read does.
 * - Only outgoing messages take this path, so the new message's type ($10) is also the type the
 *   first-reply count reads.
 * - The message's created_at, and the conversation's last_activity_at with it, is the request's
 *   time or the conversation's last activity, whichever is later: replies to one conversation take
 *   their turn at its row lock in any order, and the transaction, which reads the clock after the
 *   lock, never moves last_activity_at back either.
 * - The conversation's render version moves once, in the update (the insert's trigger is told so
 *   through RENDER_BUMPED_SETTING, as the locked read does in the transaction).
 */
const REPLY_STATEMENT = `
with conv as (
  select c.*,
    set_config('${RENDER_BUMPED_SETTING}', c.id::text, true) as render_bumped,
    ($3::boolean or c.inbox_id = any($4::int[]) or (c.team_id is not null and exists (
      select 1 from team_members tm join teams t on t.id = tm.team_id
      where tm.user_id = $5 and tm.team_id = c.team_id and t.account_id = c.account_id))) as authorized,
    (select m.created_at from messages m where m.id = (
      select r.id from messages r where r.conversation_id = c.id order by r.id desc limit 1 offset $6::int - 1)) >= $7::bigint as flooding
  from conversations c
  where c.account_id = $1 and c.display_id = $2
  for update of c
),
ok as (
  select conv.*,
    -- stamped after the lock: never before the conversation's last activity
    greatest($21::bigint, conv.last_activity_at) as at,
    ($8::boolean and conv.first_reply_created_at is null and (
      -- humans: not a bot, and campaign_id blank (Ruby's present? false)
      select count(*) filter (where e.sender_type is distinct from 'AgentBot' and (
        case jsonb_typeof(e.additional_attributes -> 'campaign_id')
          when 'string' then (e.additional_attributes ->> 'campaign_id') ~ '^\\s*$'
          when 'array' then jsonb_array_length(e.additional_attributes -> 'campaign_id') = 0
          when 'object' then e.additional_attributes -> 'campaign_id' = '{}'::jsonb
          when 'boolean' then not (e.additional_attributes -> 'campaign_id')::boolean
          when 'number' then false
          else true end))
        + case when count(*) < 100 then 1 else 0 end
      from (
        select sender_type, additional_attributes from messages
        where conversation_id = conv.id and message_type = $10 and private = 0
        order by id limit 100) e) <= 1) as first_reply
  from conv
  where conv.authorized and not coalesce(conv.flooding, false)
),
inserted as (
  insert into messages (account_id, inbox_id, conversation_id, content, message_type, content_type, content_attributes, private,
    status, source_id, echo_id, sender_type, sender_id, additional_attributes, processed_message_content, created_at, updated_at)
  select ok.account_id, ok.inbox_id, ok.id, $9, $10, $11, $12::jsonb, $13, $14, $15, $16, $17, $18, $19::jsonb, $20, ok.at, ok.at
  from ok
  returning *
),
updated as (
  update conversations c set
    last_activity_at = ok.at,
    updated_at = ok.at,
    render_version = c.render_version + 1,
    first_reply_created_at = case when ok.first_reply then ok.at else c.first_reply_created_at end,
    waiting_since = case when ok.first_reply or $22::boolean then null else c.waiting_since end
  from ok
  where c.id = ok.id
  returning c.*
)
select
  (select count(*) from conv)::int as found,
  (select authorized from conv) as authorized,
  (select flooding from conv) as flooding,
  (select row_to_json(inserted) from inserted) as message,
  (select row_to_json(updated) from updated) as conversation`;

/** The message's own columns, as writeMessage builds them (the conversation's come from the statement). */
export type ReplyColumns = Pick<
  MessageRow,
  | 'content'
  | 'message_type'
  | 'content_type'
  | 'content_attributes'
  | 'private'
  | 'status'
  | 'source_id'
  | 'echo_id'
  | 'sender_type'
  | 'sender_id'
  | 'additional_attributes'
  | 'processed_message_content'
  | 'created_at'
>;

export interface ReplyStatementInput {
  accountId: number;
  displayId: number;
  access: ConversationAccess;
  /** Chatwoot's per-minute limit: the N-th newest message must be older than a minute. */
  messagesPerMinute: number;
  columns: ReplyColumns;
  /** A public human reply: it is the first reply unless an earlier human one is found. */
  mayBeFirstReply: boolean;
  /** A public human or bot reply: it clears waiting_since. */
  clearsWaiting: boolean;
}

/** What the statement found: the rows it wrote, or why it wrote nothing. */
export type ReplyOutcome =
  | { written: true; message: MessageRow; conversation: ConversationRow }
  | { written: false; refusal: 'not found' | 'unauthorized' | 'flooding' };

/** Runs the reply's statement (the caller turns a refusal into the transaction's 404, 401 or 422). */
export async function insertReplyAtOnce(db: Db, input: ReplyStatementInput): Promise<ReplyOutcome> {
  const { columns: m, access } = input;
  const parameters = [
    input.accountId,
    input.displayId,
    access.inboxIds === null,
    access.inboxIds ?? [],
    access.userId,
    input.messagesPerMinute,
    m.created_at - 60_000,
    input.mayBeFirstReply,
    m.content,
    m.message_type,
    m.content_type,
    m.content_attributes,
    m.private,
    m.status,
    m.source_id,
    m.echo_id,
    m.sender_type,
    m.sender_id,
    m.additional_attributes,
    m.processed_message_content,
    m.created_at,
    input.clearsWaiting,
  ];
  const { rows } = await db.executeQuery<{
    found: number;
    authorized: boolean | null;
    flooding: boolean | null;
    message: MessageRow | null;
    conversation: ConversationRow | null;
  }>(onClientOfItsOwn(CompiledQuery.raw(REPLY_STATEMENT, parameters)));
  const [row] = rows;
  if (!row || row.found === 0) return { written: false, refusal: 'not found' };
  if (!row.authorized) return { written: false, refusal: 'unauthorized' };
  if (row.flooding || !row.message || !row.conversation) return { written: false, refusal: 'flooding' };
  return { written: true, message: row.message, conversation: row.conversation };
}
