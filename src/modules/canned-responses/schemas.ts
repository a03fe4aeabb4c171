import { Type, type Static } from '@sinclair/typebox';

const nullableString = Type.Unsafe<string | null>({ type: ['string', 'null'] });

export const CannedResponseFields = Type.Object({
  short_code: Type.Optional(nullableString),
  content: Type.Optional(nullableString),
});
export type CannedResponseFieldsT = Static<typeof CannedResponseFields>;

/** Rails wrap_parameters: the fields at the root or under "canned_response". */
export const CannedResponseBody = Type.Composite([CannedResponseFields, Type.Object({ canned_response: Type.Optional(CannedResponseFields) })]);

export const IdParams = Type.Object({ id: Type.String({ maxLength: 30 }) });
export const ListQuery = Type.Object({ search: Type.Optional(Type.String({ maxLength: 1000 })) });
