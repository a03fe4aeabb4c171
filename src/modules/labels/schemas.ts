import { Type, type Static } from '@sinclair/typebox';

const nullableString = Type.Unsafe<string | null>({ type: ['string', 'null'] });

export const LabelFields = Type.Object({
  title: Type.Optional(nullableString),
  description: Type.Optional(nullableString),
  color: Type.Optional(nullableString),
  show_on_sidebar: Type.Optional(Type.Unsafe<boolean | null>({ type: ['boolean', 'null'] })),
});
export type LabelFieldsT = Static<typeof LabelFields>;

/** Rails wrap_parameters: the fields at the root or under "label". */
export const LabelBody = Type.Composite([LabelFields, Type.Object({ label: Type.Optional(LabelFields) })]);

export const IdParams = Type.Object({ id: Type.String({ maxLength: 30 }) });

/** The list takes no parameters. */
export const ListQuery = Type.Object({});
