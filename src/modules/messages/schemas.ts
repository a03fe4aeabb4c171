import { Type } from '@sinclair/typebox';

export const ConversationParams = Type.Object({
  account_id: Type.String(),
  conversation_id: Type.String({ maxLength: 20 }),
});

export const MessageParams = Type.Object({
  account_id: Type.String(),
  conversation_id: Type.String({ maxLength: 20 }),
  id: Type.String({ maxLength: 20 }),
});

export const MessagesQuery = Type.Object({
  before: Type.Optional(Type.String({ maxLength: 20 })),
  after: Type.Optional(Type.String({ maxLength: 20 })),
  filter_internal_messages: Type.Optional(Type.String({ maxLength: 10 })),
});

export const AttachmentsQuery = Type.Object({
  page: Type.Optional(Type.String({ maxLength: 12 })),
});

/**
 * POST …/messages as JSON. Several fields are loose on purpose (Rails casts them): the
 * message type may be a name or its number, content_attributes an object or a JSON string.
 * Multipart bodies are read by the handler and pass through the same service checks.
 */
export const CreateMessageBody = Type.Object({
  content: Type.Optional(Type.Union([Type.String({ maxLength: 1_000_000 }), Type.Null()])),
  message_type: Type.Optional(Type.Union([Type.String({ maxLength: 32 }), Type.Integer(), Type.Null()])),
  private: Type.Optional(Type.Union([Type.Boolean(), Type.String({ maxLength: 10 }), Type.Integer(), Type.Null()])),
  content_type: Type.Optional(Type.Union([Type.String({ maxLength: 32 }), Type.Null()])),
  content_attributes: Type.Optional(Type.Unknown()),
  template_params: Type.Optional(Type.Unknown()),
  echo_id: Type.Optional(Type.Union([Type.String({ maxLength: 255 }), Type.Null()])),
  campaign_id: Type.Optional(Type.Unknown()),
  source_id: Type.Optional(Type.Union([Type.String({ maxLength: 255 }), Type.Null()])),
  sender_type: Type.Optional(Type.Union([Type.String({ maxLength: 32 }), Type.Null()])),
  sender_id: Type.Optional(Type.Union([Type.Integer(), Type.String({ maxLength: 20 }), Type.Null()])),
  external_created_at: Type.Optional(Type.Unknown()),
});

export const UpdateMessageBody = Type.Object({
  status: Type.Optional(Type.Union([Type.String({ maxLength: 32 }), Type.Null()])),
  external_error: Type.Optional(Type.Unknown()),
});
