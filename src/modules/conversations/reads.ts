import type { Static } from '@sinclair/typebox';
import { accessibleInboxIds, currentAccount, currentUser, type RequestScope } from '../../auth/guard.js';
import type { AppContext } from '../../context.js';
import type { ReadRequest } from '../../offload/protocol.js';
import { renderConversationItems, renderConversationList } from './fragments.js';
import { findConversations, findConversationStamps, type ListParams, type Viewer } from './finder.js';
import { presentConversation } from './presenter.js';
import type { ConversationIdParams, ListQuery } from './schemas.js';
import { loadConversationForRequest } from './service.js';

type ListQueryT = Static<typeof ListQuery>;

/** Conversations are addressed by display id; anything that is not one is simply not found. */
export function displayId(raw: string): number {
  return /^\d{1,12}$/.test(raw) ? Number(raw) : Number.NaN;
}

export const viewerUserId = (request: RequestScope): number | null => (request.principal?.kind === 'user' ? request.principal.user.id : null);

/** Who is listing: the account, the user, and the inboxes they may see (null: all). */
export async function viewerOf(ctx: AppContext, request: RequestScope): Promise<Viewer> {
  return { accountId: currentAccount(request).id, userId: currentUser(request).id, inboxIds: await accessibleInboxIds(ctx, request) };
}

/** `labels[]=a&labels[]=b` and `labels=a` alike. */
export function listParams(query: ListQueryT): ListParams {
  const { 'labels[]': bracketed, ...rest } = query;
  return bracketed ? { ...rest, labels: [...(rest.labels ?? []), ...bracketed] } : rest;
}

const CLOSE_DATA = Buffer.from('}}');

/** ConversationsController#index: the page and its counts. Items come as JSON text from the render cache (fragments.ts). */
export async function listConversations(ctx: AppContext, request: ReadRequest<unknown, ListQueryT>): Promise<Buffer> {
  const viewer = await viewerOf(ctx, request);
  const { stamps, counts } = await findConversationStamps(ctx, viewer, listParams(request.query));
  const payload = await renderConversationList(ctx.db, stamps, viewer.userId);
  const head = Buffer.from(`{"data":{"meta":${JSON.stringify(counts)},"payload":`);
  return Buffer.concat([head, ...payload, CLOSE_DATA]);
}

/** ConversationsController#meta: the list's counts alone. */
export async function conversationsMeta(ctx: AppContext, request: ReadRequest<unknown, ListQueryT>) {
  const viewer = await viewerOf(ctx, request);
  const { counts } = await findConversations(ctx, viewer, { ...listParams(request.query), page: '1' }, { countsOnly: true });
  return { meta: counts };
}

/** ConversationsController#show: the same partial as a list item, served from the list's render cache. */
export async function showConversation(ctx: AppContext, request: ReadRequest<Static<typeof ConversationIdParams>>) {
  const conversation = await loadConversationForRequest(ctx, request, displayId(request.params.id));
  const [item] = await renderConversationItems(ctx.db, [conversation], viewerUserId(request));
  return item === undefined ? presentConversation(ctx.db, conversation, viewerUserId(request)) : Buffer.concat(item);
}
