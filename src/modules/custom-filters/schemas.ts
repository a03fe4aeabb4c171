import { Type, type Static } from '@sinclair/typebox';

export const CustomFilterFields = Type.Object({
  name: Type.Optional(Type.Unsafe<string | null>({ type: ['string', 'null'] })),
  /** Chatwoot's name ("contact") or its integer; the service casts both. */
  filter_type: Type.Optional(Type.Unsafe<string | number | null>({ type: ['string', 'integer', 'null'] })),
  /** Free-form (the filter payload); the service requires an object. */
  query: Type.Optional(Type.Unknown()),
});
export type CustomFilterFieldsT = Static<typeof CustomFilterFields>;

/** Rails wrap_parameters: the fields at the root or under "custom_filter". */
export const CustomFilterBody = Type.Composite([CustomFilterFields, Type.Object({ custom_filter: Type.Optional(CustomFilterFields) })]);

export const IdParams = Type.Object({ id: Type.String({ maxLength: 30 }) });
export const ListQuery = Type.Object({ filter_type: Type.Optional(Type.String({ maxLength: 40 })) });
