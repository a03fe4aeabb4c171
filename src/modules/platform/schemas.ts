import { Type } from '@sinclair/typebox';

export const IdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });
export const AccountIdParams = Type.Object({ account_id: Type.Integer({ minimum: 1 }) });
const JsonObject = Type.Record(Type.String(), Type.Unknown());

export const AccountBody = Type.Object({
  name: Type.Optional(Type.String({ maxLength: 255 })),
  locale: Type.Optional(Type.String({ maxLength: 16 })),
  domain: Type.Optional(Type.Union([Type.String({ maxLength: 100 }), Type.Null()])),
  support_email: Type.Optional(Type.Union([Type.String({ maxLength: 100 }), Type.Null()])),
  status: Type.Optional(Type.String()),
  features: Type.Optional(JsonObject),
  limits: Type.Optional(JsonObject),
  custom_attributes: Type.Optional(JsonObject),
});

export const AccountUserBody = Type.Object({
  user_id: Type.Integer({ minimum: 1 }),
  role: Type.Optional(Type.String()),
});
export const AccountUserDeleteBody = Type.Object({ user_id: Type.Integer({ minimum: 1 }) });

export const UserBody = Type.Object({
  name: Type.Optional(Type.String({ maxLength: 255 })),
  display_name: Type.Optional(Type.Union([Type.String({ maxLength: 255 }), Type.Null()])),
  email: Type.Optional(Type.String({ maxLength: 255 })),
  password: Type.Optional(Type.String({ maxLength: 128 })),
  custom_attributes: Type.Optional(JsonObject),
});

export const AgentBotBody = Type.Object({
  name: Type.Optional(Type.String({ maxLength: 255 })),
  description: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  outgoing_url: Type.Optional(Type.Union([Type.String({ maxLength: 2048 }), Type.Null()])),
  account_id: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
  avatar_url: Type.Optional(Type.Union([Type.String({ maxLength: 2048 }), Type.Null()])),
});
