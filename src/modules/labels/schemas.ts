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

/**
 * POST …/contacts/{id}/labels and …/conversations/{id}/labels (LabelConcern); taggings.ts
 * permittedLabels reads it as Rails does. One list of types, not a union: the validator's array
 * coercion would wrap a string into an array while trying a union's branches, and Rails reads a
 * single value here as no labels at all. Every scalar type is listed so none is coerced; an object
 * is refused (400).
 */
export const LabelsBody = Type.Object({
  labels: Type.Optional(
    Type.Unsafe<unknown[] | string | number | boolean | null>({ type: ['array', 'string', 'number', 'boolean', 'null'], maxItems: 1000, maxLength: 10_000 }),
  ),
});
