import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { currentAccount, currentUser } from '../../auth/guard.js';
import { unprocessable } from '../../lib/errors.js';
import { unwrap } from '../../lib/params.js';
import { presentCustomFilter } from './presenter.js';
import { CustomFilterBody, IdParams, ListQuery, type CustomFilterFieldsT } from './schemas.js';
import {
  CUSTOM_FILTER_FIELDS,
  createCustomFilter,
  deleteCustomFilter,
  findCustomFilter,
  listCustomFilters,
  updateCustomFilter,
  type CustomFilterInput,
} from './service.js';

/** params.require(:custom_filter).permit(…): nothing permitted present is ParameterMissing (422). */
function permitted(body: unknown): CustomFilterInput {
  const fields = unwrap<CustomFilterFieldsT>(body, 'custom_filter');
  const out: Record<string, unknown> = {};
  for (const key of CUSTOM_FILTER_FIELDS) if (fields[key] !== undefined) out[key] = fields[key];
  if (Object.keys(out).length === 0) throw unprocessable('param is missing or the value is empty: custom_filter');
  return out as CustomFilterInput;
}

/**
 * Saved views (CustomFilterPolicy: agents and administrators alike). Each user sees and changes
 * only their own filters; another user's id is 404.
 */
export const customFiltersRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/custom_filters', { schema: { querystring: ListQuery } }, async (request) => {
    const rows = await listCustomFilters(app.ctx.db, currentAccount(request).id, currentUser(request).id, request.query.filter_type);
    return rows.map(presentCustomFilter);
  });

  app.get('/custom_filters/:id', { schema: { params: IdParams } }, async (request) => {
    return presentCustomFilter(await findCustomFilter(app.ctx.db, currentAccount(request).id, currentUser(request).id, request.params.id));
  });

  app.post('/custom_filters', { schema: { body: CustomFilterBody } }, async (request) => {
    const account = currentAccount(request);
    const user = currentUser(request);
    const input = permitted(request.body);
    const row = await app.ctx.db.transaction().execute((trx) => createCustomFilter(trx, account.id, user.id, input));
    return presentCustomFilter(row);
  });

  const update = async (request: FastifyRequest<{ Params: { id: string }; Body: unknown }>) => {
    const account = currentAccount(request);
    const user = currentUser(request);
    await findCustomFilter(app.ctx.db, account.id, user.id, request.params.id);
    const input = permitted(request.body);
    const row = await app.ctx.db
      .transaction()
      .execute(async (trx) => updateCustomFilter(trx, await findCustomFilter(trx, account.id, user.id, request.params.id), input));
    return presentCustomFilter(row);
  };
  app.patch('/custom_filters/:id', { schema: { params: IdParams, body: CustomFilterBody } }, update);
  app.put('/custom_filters/:id', { schema: { params: IdParams, body: CustomFilterBody } }, update);

  app.delete('/custom_filters/:id', { schema: { params: IdParams } }, async (request, reply) => {
    const row = await findCustomFilter(app.ctx.db, currentAccount(request).id, currentUser(request).id, request.params.id);
    await deleteCustomFilter(app.ctx.db, row);
    return reply.status(204).send();
  });
};
