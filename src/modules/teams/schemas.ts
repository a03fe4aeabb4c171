import { Type, type Static } from '@sinclair/typebox';

const nullableString = Type.Unsafe<string | null>({ type: ['string', 'null'] });

export const TeamFields = Type.Object({
  name: Type.Optional(nullableString),
  description: Type.Optional(nullableString),
  allow_auto_assign: Type.Optional(Type.Unsafe<boolean | null>({ type: ['boolean', 'null'] })),
});
export type TeamFieldsT = Static<typeof TeamFields>;

/** Rails wrap_parameters: the fields at the root or under "team". */
export const TeamBody = Type.Composite([TeamFields, Type.Object({ team: Type.Optional(TeamFields) })]);

export const TeamParams = Type.Object({ id: Type.String({ maxLength: 30 }) });
export const TeamMembersParams = Type.Object({ team_id: Type.String({ maxLength: 30 }) });

/** user_ids as a JSON array (or one id, which the coercion turns into an array). */
export const MemberBody = Type.Object({ user_ids: Type.Optional(Type.Array(Type.Integer(), { maxItems: 10_000 })) });
export const MemberQuery = Type.Object({ user_ids: Type.Optional(Type.Array(Type.Integer(), { maxItems: 10_000 })) });

/** The list takes no parameters. */
export const ListQuery = Type.Object({});
