import { Type } from '@sinclair/typebox';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const Obj = Type.Object({}, { additionalProperties: true });

/**
 * Response schemas: they document these shapes (OpenAPI); responses are serialized with
 * JSON.stringify (app.ts). Every object keeps additionalProperties so a field added by a
 * presenter is never silently dropped.
 */
export const ProfileAccountSchema = Type.Object(
  {
    id: Type.Integer(),
    name: Type.String(),
    status: Type.String(),
    active_at: Nullable(Type.String()),
    role: Type.String(),
    permissions: Type.Array(Type.String()),
    availability: Type.String(),
    availability_status: Type.String(),
    auto_offline: Type.Boolean(),
  },
  { additionalProperties: true },
);

export const ProfileSchema = Type.Object(
  {
    access_token: Nullable(Type.String()),
    account_id: Type.Union([Type.Integer(), Type.Null()]),
    available_name: Type.String(),
    avatar_url: Type.String(),
    confirmed: Type.Boolean(),
    display_name: Nullable(Type.String()),
    message_signature: Nullable(Type.String()),
    email: Type.String(),
    id: Type.Integer(),
    inviter_id: Type.Union([Type.Integer(), Type.Null()]),
    name: Type.String(),
    provider: Type.String(),
    pubsub_token: Type.String(),
    custom_attributes: Type.Optional(Obj),
    role: Nullable(Type.String()),
    ui_settings: Obj,
    uid: Type.String(),
    type: Nullable(Type.String()),
    accounts: Type.Array(ProfileAccountSchema),
  },
  { additionalProperties: true },
);

export const AgentSchema = Type.Object(
  {
    id: Type.Integer(),
    account_id: Type.Integer(),
    availability_status: Type.String(),
    auto_offline: Type.Boolean(),
    confirmed: Type.Boolean(),
    email: Type.String(),
    provider: Type.String(),
    available_name: Type.String(),
    custom_attributes: Type.Optional(Obj),
    name: Type.String(),
    role: Type.String(),
    thumbnail: Type.String(),
  },
  { additionalProperties: true },
);
