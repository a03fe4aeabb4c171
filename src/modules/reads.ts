import { filterContacts, listContacts, searchContacts } from './contacts/reads.js';
import { conversationsMeta, listConversations, showConversation } from './conversations/reads.js';
import { listMessages } from './messages/reads.js';

/**
 * The read handlers a read worker may answer (offload/pool.ts), by name. Each is a route's whole
 * handler: it reads, never writes or emits, and returns the JSON body (or throws an HttpError).
 * A route serves one with `readRoute(ctx, name)`; without workers it runs on the request thread.
 */
export const READ_HANDLERS = {
  'contacts.index': listContacts,
  'contacts.search': searchContacts,
  'contacts.filter': filterContacts,
  'conversations.index': listConversations,
  'conversations.meta': conversationsMeta,
  'conversations.show': showConversation,
  'messages.index': listMessages,
} as const;

export type ReadName = keyof typeof READ_HANDLERS;
