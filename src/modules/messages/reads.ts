import type { Static } from '@sinclair/typebox';
import { currentAccount } from '../../auth/guard.js';
import type { AppContext } from '../../context.js';
import type { ReadRequest } from '../../offload/protocol.js';
import { displayId } from '../conversations/reads.js';
import { loadConversationPartForRequest } from '../conversations/service.js';
import { findConversationContact, findMessages, messagesMeta, MESSAGES_CONVERSATION_COLUMNS, readAheadByDisplayId } from './finder.js';
import { presentMessages } from './presenter.js';
import type { ConversationParams, MessagesQuery } from './schemas.js';

/** MessagesController#index (GET …/conversations/:conversation_id/messages): the page and its meta. */
export async function listMessages(ctx: AppContext, request: ReadRequest<Static<typeof ConversationParams>, Static<typeof MessagesQuery>>) {
  const id = displayId(request.params.conversation_id);
  const ahead = readAheadByDisplayId(ctx.db, currentAccount(request).id, id, request.query);
  const conversation = await loadConversationPartForRequest(ctx, request, id, MESSAGES_CONVERSATION_COLUMNS);
  const [rows, contact] = await (ahead ?? Promise.all([findMessages(ctx.db, conversation, request.query), findConversationContact(ctx.db, conversation)]));
  const displayIds = new Map([[conversation.id, conversation.display_id]]);
  const { authEpoch } = request;
  const [meta, payload] = await Promise.all([
    messagesMeta(ctx.db, conversation, contact, authEpoch),
    presentMessages(ctx.db, rows, { displayIds, authEpoch, contacts: contact ? [contact] : [] }),
  ]);
  return { meta, payload };
}
