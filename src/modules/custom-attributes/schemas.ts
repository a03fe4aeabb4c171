import { Type, type Static } from '@sinclair/typebox';

const nullableString = Type.Unsafe<string | null>({ type: ['string', 'null'] });
/** Enum fields take Chatwoot's name ("contact_attribute") or its integer; the service casts both. */
const enumValue = Type.Unsafe<string | number | null>({ type: ['string', 'integer', 'null'] });

export const DefinitionFields = Type.Object({
  attribute_display_name: Type.Optional(nullableString),
  attribute_description: Type.Optional(nullableString),
  attribute_display_type: Type.Optional(enumValue),
  attribute_key: Type.Optional(nullableString),
  attribute_model: Type.Optional(enumValue),
  regex_pattern: Type.Optional(nullableString),
  regex_cue: Type.Optional(nullableString),
  attribute_values: Type.Optional(Type.Unsafe<unknown[] | null>({ type: ['array', 'null'] })),
});
export type DefinitionFieldsT = Static<typeof DefinitionFields>;

/** Rails wrap_parameters: the fields at the root or under "custom_attribute_definition". */
export const DefinitionBody = Type.Composite([
  DefinitionFields,
  Type.Object({ custom_attribute_definition: Type.Optional(DefinitionFields) }),
]);

export const IdParams = Type.Object({ id: Type.String({ maxLength: 30 }) });

export const ListQuery = Type.Object({ attribute_model: Type.Optional(Type.String({ maxLength: 40 })) });
