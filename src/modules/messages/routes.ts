import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import multipart from '@fastify/multipart';
import { currentAccount, type Principal } from '../../auth/guard.js';
import { pageNumber, pathDisplayId } from '../../lib/params.js';
import { conversationRefForRequest, loadConversationForRequest, loadConversationPartForRequest } from '../conversations/service.js';
import { findConversationContact, findMessages, listConversationAttachments, messagesMeta, MESSAGES_CONVERSATION_COLUMNS, readAheadByDisplayId } from './finder.js';
import { assignField, readMultipartMessage, setAttachmentBaseUrl } from './files.js';
import { presentConversationAttachments, presentMessage, presentMessages } from './presenter.js';
import { AttachmentsQuery, ConversationParams, CreateMessageBody, MessageParams, MessagesQuery, UpdateMessageBody } from './schemas.js';
import {
  createMessage,
  deleteMessage,
  findMessage,
  isCallersReply,
  updateMessageStatus,
  type Actor,
  type ConversationRef,
  type ConversationRow,
  type CreateMessageInput,
  type StoredFile,
} from './service.js';

function actorOf(principal: Principal | null): Actor {
  if (!principal) return null;
  return principal.kind === 'user' ? { kind: 'user', user: principal.user } : { kind: 'bot', bot: principal.bot };
}

/**
 * Api::V1::Accounts::Conversations::MessagesController and ConversationsController#attachments.
 * Mounted under /api/v1/accounts/:account_id.
 */
export const messagesRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const ctx = app.ctx;
  setAttachmentBaseUrl(ctx.config.frontendUrl);
  // Multipart only in this plugin's scope: files go straight to storage while they stream in.
  await app.register(multipart, {
    limits: { fileSize: ctx.config.maxUploadBytes, files: 15, fields: 200, fieldSize: 1024 * 1024 },
  });

  // Rails also takes classic form posts; keys nest like its params (content_attributes[items][][title]).
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    const params: Record<string, unknown> = {};
    for (const [key, value] of new URLSearchParams(String(body))) assignField(params, key, value);
    done(null, params);
  });

  const base = '/conversations/:conversation_id';

  app.get(`${base}/messages`, { schema: { params: ConversationParams, querystring: MessagesQuery } }, async (request) => {
    const id = pathDisplayId(request.params.conversation_id);
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
  });

  app.post(
    `${base}/messages`,
    {
      config: { botAccess: true },
      schema: {
        params: ConversationParams,
        // Only JSON bodies are validated here; multipart forms are read by the handler.
        body: { content: { 'application/json': { schema: CreateMessageBody } } },
      },
    },
    async (request) => {
      const id = pathDisplayId(request.params.conversation_id);
      const isMultipart = request.isMultipart();
      // Files are stored under the conversation's account while the form streams in: found first.
      let target: ConversationRow | ConversationRef | undefined = isMultipart ? await loadConversationForRequest(ctx, request, id) : undefined;
      let params: Record<string, unknown>;
      let files: StoredFile[] = [];
      if (target) {
        ({ fields: params, files } = await readMultipartMessage(ctx, request as FastifyRequest, target.account_id));
      } else {
        params = (request.body && typeof request.body === 'object' ? request.body : {}) as Record<string, unknown>;
      }
      const input: CreateMessageInput = {
        actor: actorOf(request.principal),
        content: params.content,
        message_type: params.message_type,
        private: params.private,
        content_type: params.content_type,
        content_attributes: params.content_attributes,
        template_params: params.template_params,
        campaign_id: params.campaign_id,
        echo_id: params.echo_id,
        source_id: params.source_id,
        sender_type: params.sender_type,
        sender_id: params.sender_id,
        external_created_at: params.external_created_at,
        files,
      };
      // The caller's own reply is found, locked and authorized by its transaction, in one read of
      // the conversation instead of two (same 404 / 401 / 422, in the same order).
      target ??= isCallersReply(input) ? await conversationRefForRequest(ctx, request, id) : await loadConversationForRequest(ctx, request, id);
      // createMessage removes the stored files itself when the message cannot be created.
      const created = await createMessage(ctx, target, input);
      const { conversation } = created;
      return presentMessage(ctx.db, created.message, {
        echo: true,
        displayIds: new Map([[conversation.id, conversation.display_id]]),
        authEpoch: request.authEpoch,
        attachments: created.attachments,
      });
    },
  );

  app.patch(`${base}/messages/:id`, { schema: { params: MessageParams, body: UpdateMessageBody } }, async (request, reply) => {
    const conversation = await loadConversationForRequest(ctx, request, pathDisplayId(request.params.conversation_id));
    const inbox = await ctx.db.selectFrom('inboxes').select('channel_type').where('id', '=', conversation.inbox_id).executeTakeFirst();
    if (inbox?.channel_type !== 'Channel::Api') {
      return reply.status(403).send({ error: 'Message status update is only allowed for API inboxes' });
    }
    const message = await findMessage(ctx.db, conversation, request.params.id);
    const body = request.body ?? {};
    const updated = await updateMessageStatus(ctx, message, body.status, body.external_error);
    return presentMessage(ctx.db, updated, { authEpoch: request.authEpoch });
  });

  app.delete(`${base}/messages/:id`, { schema: { params: MessageParams } }, async (request) => {
    const conversation = await loadConversationForRequest(ctx, request, pathDisplayId(request.params.conversation_id));
    const message = await findMessage(ctx.db, conversation, request.params.id);
    const deleted = await deleteMessage(ctx, message);
    return presentMessage(ctx.db, deleted, { authEpoch: request.authEpoch });
  });

  app.get(`${base}/attachments`, { schema: { params: ConversationParams, querystring: AttachmentsQuery } }, async (request) => {
    const conversation = await loadConversationForRequest(ctx, request, pathDisplayId(request.params.conversation_id));
    const { total, rows } = await listConversationAttachments(ctx.db, conversation, pageNumber(request.query.page));
    return { meta: { total_count: total }, payload: await presentConversationAttachments(ctx.db, rows) };
  });

};
