import { Type } from '@sinclair/typebox';

const Id = Type.String({ maxLength: 30 });
/** Free-form JSON objects reach the service untouched (Ajv would strip unknown keys otherwise). */
const FreeObject = Type.Record(Type.String(), Type.Unknown());
/** Loose scalars: Rails params arrive as strings or numbers; the service parses them. */
const Loose = Type.Unknown();

export const ConversationIdParams = Type.Object({ id: Id });
export const ConversationParams = Type.Object({ conversation_id: Id });
export const ContactIdParams = Type.Object({ id: Id });

export const ListQuery = Type.Object({
  assignee_type: Type.Optional(Type.String({ maxLength: 30 })),
  status: Type.Optional(Type.String({ maxLength: 30 })),
  inbox_id: Type.Optional(Type.String({ maxLength: 30 })),
  team_id: Type.Optional(Type.String({ maxLength: 30 })),
  labels: Type.Optional(Type.Array(Type.String({ maxLength: 255 }), { maxItems: 100 })),
  /** Rails clients send labels[]=a&labels[]=b; the query parser keeps the brackets. */
  'labels[]': Type.Optional(Type.Array(Type.String({ maxLength: 255 }), { maxItems: 100 })),
  q: Type.Optional(Type.String({ maxLength: 1000 })),
  sort_by: Type.Optional(Type.String({ maxLength: 60 })),
  page: Type.Optional(Type.String({ maxLength: 12 })),
  source_id: Type.Optional(Type.String({ maxLength: 255 })),
  conversation_type: Type.Optional(Type.String({ maxLength: 30 })),
  updated_within: Type.Optional(Type.String({ maxLength: 20 })),
});

export const PageQuery = Type.Object({ page: Type.Optional(Type.String({ maxLength: 12 })) });

export const FilterBody = Type.Object({
  payload: Type.Optional(Type.Unknown()),
  page: Type.Optional(Loose),
});

export const CreateBody = Type.Object({
  source_id: Type.Optional(Type.Union([Type.String({ maxLength: 255 }), Type.Null()])),
  inbox_id: Type.Optional(Loose),
  contact_id: Type.Optional(Loose),
  status: Type.Optional(Type.Union([Type.String({ maxLength: 30 }), Type.Null()])),
  assignee_id: Type.Optional(Loose),
  team_id: Type.Optional(Loose),
  campaign_id: Type.Optional(Loose),
  snoozed_until: Type.Optional(Loose),
  additional_attributes: Type.Optional(Type.Union([FreeObject, Type.Null()])),
  custom_attributes: Type.Optional(Type.Union([FreeObject, Type.Null()])),
  message: Type.Optional(Type.Union([FreeObject, Type.Null()])),
});

export const UpdateBody = Type.Object({
  priority: Type.Optional(Type.Union([Type.String({ maxLength: 30 }), Type.Null()])),
  sla_policy_id: Type.Optional(Loose),
  additional_attributes: Type.Optional(Type.Union([FreeObject, Type.Null()])),
  custom_attributes: Type.Optional(Type.Union([FreeObject, Type.Null()])),
  conversation: Type.Optional(FreeObject),
});

export const ToggleStatusBody = Type.Object({
  status: Type.Optional(Type.Union([Type.String({ maxLength: 30 }), Type.Null()])),
  snoozed_until: Type.Optional(Loose),
});

export const TogglePriorityBody = Type.Object({
  priority: Type.Optional(Type.Union([Type.String({ maxLength: 30 }), Type.Null()])),
});

export const TypingBody = Type.Object({
  typing_status: Type.Optional(Type.String({ maxLength: 10 })),
  is_private: Type.Optional(Loose),
});

export const CustomAttributesBody = Type.Object({
  custom_attributes: Type.Optional(Type.Union([FreeObject, Type.Null()])),
});

export const AssignmentBody = Type.Object({
  assignee_id: Type.Optional(Loose),
  assignee_type: Type.Optional(Type.String({ maxLength: 30 })),
  team_id: Type.Optional(Loose),
});

export const ParticipantsBody = Type.Object({
  user_ids: Type.Optional(Type.Array(Loose, { maxItems: 1000 })),
});

export const DraftBody = Type.Object({
  draft_message: Type.Optional(Type.Union([Type.Object({ message: Type.Optional(Type.Unknown()) }), Type.Null()])),
});

export const SearchQuery = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 1000 })),
  page: Type.Optional(Type.String({ maxLength: 12 })),
});
