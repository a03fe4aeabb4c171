import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { currentAccount, requireAdministrator } from '../../auth/guard.js';
import { unprocessable } from '../../lib/errors.js';
import { unwrap } from '../../lib/params.js';
import { presentCustomAttributeDefinition } from './presenter.js';
import { DefinitionBody, IdParams, ListQuery, type DefinitionFieldsT } from './schemas.js';
import {
  DEFINITION_FIELDS,
  createDefinition,
  deleteDefinition,
  findDefinition,
  listDefinitions,
  updateDefinition,
  type DefinitionInput,
} from './service.js';

/** params.require(:custom_attribute_definition).permit(…): nothing permitted present is ParameterMissing (422). */
function permitted(body: unknown): DefinitionInput {
  const fields = unwrap<DefinitionFieldsT>(body, 'custom_attribute_definition');
  const out: Record<string, unknown> = {};
  for (const key of DEFINITION_FIELDS) if (fields[key] !== undefined) out[key] = fields[key];
  if (Object.keys(out).length === 0) throw unprocessable('param is missing or the value is empty: custom_attribute_definition');
  return out as DefinitionInput;
}

/**
 * Custom attribute definitions. Every member may read them (the dashboard needs them to render
 * contacts and conversations); only administrators change them, as the issue requires.
 */
export const customAttributesRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const base = '/custom_attribute_definitions';

  app.get(base, { schema: { querystring: ListQuery } }, async (request) => {
    const account = currentAccount(request);
    const rows = await listDefinitions(app.ctx.db, account.id, request.query.attribute_model);
    return rows.map(presentCustomAttributeDefinition);
  });

  app.get(`${base}/:id`, { schema: { params: IdParams } }, async (request) => {
    const account = currentAccount(request);
    return presentCustomAttributeDefinition(await findDefinition(app.ctx.db, account.id, request.params.id));
  });

  app.post(base, { schema: { body: DefinitionBody } }, async (request) => {
    const account = currentAccount(request);
    requireAdministrator(request);
    const input = permitted(request.body);
    const row = await app.ctx.db.transaction().execute((trx) => createDefinition(trx, account.id, input));
    return presentCustomAttributeDefinition(row);
  });

  // Chatwoot's order: find the record (404), then authorize (401), then read the params (422).
  const update = async (request: FastifyRequest<{ Params: { id: string }; Body: unknown }>) => {
    const account = currentAccount(request);
    await findDefinition(app.ctx.db, account.id, request.params.id);
    requireAdministrator(request);
    const input = permitted(request.body);
    const row = await app.ctx.db.transaction().execute(async (trx) => {
      const existing = await findDefinition(trx, account.id, request.params.id);
      return updateDefinition(trx, existing, input);
    });
    return presentCustomAttributeDefinition(row);
  };
  app.patch(`${base}/:id`, { schema: { params: IdParams, body: DefinitionBody } }, update);
  app.put(`${base}/:id`, { schema: { params: IdParams, body: DefinitionBody } }, update);

  app.delete(`${base}/:id`, { schema: { params: IdParams } }, async (request, reply) => {
    const account = currentAccount(request);
    const row = await findDefinition(app.ctx.db, account.id, request.params.id);
    requireAdministrator(request);
    await deleteDefinition(app.ctx.db, row);
    return reply.status(204).send();
  });
};
