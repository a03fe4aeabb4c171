import { Type, type Static } from '@sinclair/typebox';

const nullableString = Type.Unsafe<string | null>({ type: ['string', 'null'] });
/** Free-form JSON objects: anything but an object (or null) is a 400 before the service runs. */
const jsonObject = Type.Unsafe<Record<string, unknown> | null>({ type: ['object', 'null'] });
const looseBoolean = Type.Unsafe<boolean | string | number | null>({ type: ['boolean', 'string', 'integer', 'null'] });
const looseId = Type.Unsafe<number | string | null>({ type: ['integer', 'string', 'null'] });

export const ContactFields = Type.Object({
  name: Type.Optional(nullableString),
  email: Type.Optional(nullableString),
  phone_number: Type.Optional(nullableString),
  identifier: Type.Optional(nullableString),
  avatar_url: Type.Optional(nullableString),
  blocked: Type.Optional(looseBoolean),
  additional_attributes: Type.Optional(jsonObject),
  custom_attributes: Type.Optional(jsonObject),
});
export type ContactFieldsT = Static<typeof ContactFields>;

/** Rails wrap_parameters: the fields at the root or under "contact". */
export const ContactBody = Type.Composite([
  ContactFields,
  Type.Object({
    contact: Type.Optional(ContactFields),
    inbox_id: Type.Optional(looseId),
    source_id: Type.Optional(nullableString),
  }),
]);

export const IdParams = Type.Object({ id: Type.String({ maxLength: 30 }) });
export const ContactIdParams = Type.Object({ id: Type.String({ maxLength: 30 }) });
export const NoteParams = Type.Object({ id: Type.String({ maxLength: 30 }), note_id: Type.String({ maxLength: 30 }) });

const labelsParam = Type.Optional(Type.Array(Type.String({ maxLength: 255 }), { maxItems: 100 }));

export const ListQuery = Type.Object({
  page: Type.Optional(Type.String({ maxLength: 20 })),
  sort: Type.Optional(Type.String({ maxLength: 40 })),
  labels: labelsParam,
  'labels[]': labelsParam,
  include_contact_inboxes: Type.Optional(Type.String({ maxLength: 10 })),
});
export type ListQueryT = Static<typeof ListQuery>;

export const SearchQuery = Type.Composite([ListQuery, Type.Object({ q: Type.Optional(Type.String({ maxLength: 500 })) })]);

export const FilterBody = Type.Object({
  payload: Type.Optional(Type.Unknown()),
  page: Type.Optional(looseId),
});

export const ContactInboxBody = Type.Object({
  inbox_id: Type.Optional(looseId),
  source_id: Type.Optional(nullableString),
  hmac_verified: Type.Optional(looseBoolean),
});

const NoteFields = Type.Object({ content: Type.Optional(nullableString) });
export const NoteBody = Type.Composite([NoteFields, Type.Object({ note: Type.Optional(NoteFields) })]);

export const MergeBody = Type.Object({
  base_contact_id: Type.Optional(looseId),
  mergee_contact_id: Type.Optional(looseId),
});

export const DestroyCustomAttributesBody = Type.Object({
  custom_attributes: Type.Optional(Type.Unsafe<unknown[] | string | null>({ type: ['array', 'string', 'null'] })),
});

export const ExportBody = Type.Object({
  column_names: Type.Optional(Type.Unsafe<unknown[] | string | null>({ type: ['array', 'string', 'null'] })),
  payload: Type.Optional(Type.Unknown()),
  label: Type.Optional(nullableString),
});

export const ImportParams = Type.Object({ import_id: Type.String({ maxLength: 30 }) });
export const ExportParams = Type.Object({ export_id: Type.String({ maxLength: 30 }) });
export const ExportFileParams = Type.Object({ export_id: Type.String({ maxLength: 30 }), token: Type.String({ maxLength: 80 }) });
