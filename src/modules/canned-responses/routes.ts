import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { currentAccount } from '../../auth/guard.js';
import { unprocessable } from '../../lib/errors.js';
import { unwrap } from '../../lib/params.js';
import { presentCannedResponse } from './presenter.js';
import { CannedResponseBody, IdParams, ListQuery, type CannedResponseFieldsT } from './schemas.js';
import {
  CANNED_RESPONSE_FIELDS,
  createCannedResponse,
  deleteCannedResponse,
  findCannedResponse,
  listCannedResponses,
  updateCannedResponse,
  type CannedResponseInput,
} from './service.js';

/** params.require(:canned_response).permit(…): nothing permitted present is ParameterMissing (422). */
function permitted(body: unknown): CannedResponseInput {
  const fields = unwrap<CannedResponseFieldsT>(body, 'canned_response');
  const out: Record<string, unknown> = {};
  for (const key of CANNED_RESPONSE_FIELDS) if (fields[key] !== undefined) out[key] = fields[key];
  if (Object.keys(out).length === 0) throw unprocessable('param is missing or the value is empty: canned_response');
  return out as CannedResponseInput;
}

/**
 * Canned responses. Chatwoot's controller has no policy check: every member of the account,
 * agent or administrator, lists, creates, updates and deletes them.
 */
export const cannedResponsesRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/canned_responses', { schema: { querystring: ListQuery } }, async (request) => {
    const account = currentAccount(request);
    const rows = await listCannedResponses(app.ctx.db, app.ctx.engine, account.id, request.query.search);
    return rows.map(presentCannedResponse);
  });

  app.post('/canned_responses', { schema: { body: CannedResponseBody } }, async (request) => {
    const account = currentAccount(request);
    const input = permitted(request.body);
    const row = await app.ctx.db.transaction().execute((trx) => createCannedResponse(trx, account.id, input));
    return presentCannedResponse(row);
  });

  const update = async (request: FastifyRequest<{ Params: { id: string }; Body: unknown }>) => {
    const account = currentAccount(request);
    await findCannedResponse(app.ctx.db, account.id, request.params.id);
    const input = permitted(request.body);
    const row = await app.ctx.db
      .transaction()
      .execute(async (trx) => updateCannedResponse(trx, await findCannedResponse(trx, account.id, request.params.id), input));
    return presentCannedResponse(row);
  };
  app.patch('/canned_responses/:id', { schema: { params: IdParams, body: CannedResponseBody } }, update);
  app.put('/canned_responses/:id', { schema: { params: IdParams, body: CannedResponseBody } }, update);

  app.delete('/canned_responses/:id', { schema: { params: IdParams } }, async (request, reply) => {
    const row = await findCannedResponse(app.ctx.db, currentAccount(request).id, request.params.id);
    await deleteCannedResponse(app.ctx.db, row);
    return reply.status(200).send();
  });
};
