import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { currentAccount, requireAdministrator } from '../../auth/guard.js';
import { unprocessable } from '../../lib/errors.js';
import { unwrap } from '../../lib/params.js';
import { presentLabel } from './presenter.js';
import { IdParams, LabelBody, ListQuery, type LabelFieldsT } from './schemas.js';
import { LABEL_FIELDS, createLabel, deleteLabel, findLabel, listLabels, updateLabel, type LabelInput } from './service.js';

/** params.require(:label).permit(…): nothing permitted present is ParameterMissing (422). */
function permitted(body: unknown): LabelInput {
  const fields = unwrap<LabelFieldsT>(body, 'label');
  const out: Record<string, unknown> = {};
  for (const key of LABEL_FIELDS) if (fields[key] !== undefined) out[key] = fields[key];
  if (Object.keys(out).length === 0) throw unprocessable('param is missing or the value is empty: label');
  return out as LabelInput;
}

/** LabelPolicy: every member lists labels; only administrators show, create, update or delete one. */
export const labelsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/labels', { schema: { querystring: ListQuery } }, async (request) => {
    const account = currentAccount(request);
    const labels = await listLabels(app.ctx.db, account.id);
    return { payload: labels.map(presentLabel) };
  });

  // Chatwoot's order: find the label (404), then authorize (401), then read the params (422).
  app.get('/labels/:id', { schema: { params: IdParams } }, async (request) => {
    const label = await findLabel(app.ctx.db, currentAccount(request).id, request.params.id);
    requireAdministrator(request);
    return presentLabel(label);
  });

  app.post('/labels', { schema: { body: LabelBody } }, async (request) => {
    const account = currentAccount(request);
    requireAdministrator(request);
    const input = permitted(request.body);
    const label = await app.ctx.db.transaction().execute((trx) => createLabel(trx, account.id, input));
    return presentLabel(label);
  });

  const update = async (request: FastifyRequest<{ Params: { id: string }; Body: unknown }>) => {
    const account = currentAccount(request);
    await findLabel(app.ctx.db, account.id, request.params.id);
    requireAdministrator(request);
    const input = permitted(request.body);
    const label = await app.ctx.db.transaction().execute(async (trx) => updateLabel(trx, await findLabel(trx, account.id, request.params.id), input));
    return presentLabel(label);
  };
  app.patch('/labels/:id', { schema: { params: IdParams, body: LabelBody } }, update);
  app.put('/labels/:id', { schema: { params: IdParams, body: LabelBody } }, update);

  app.delete('/labels/:id', { schema: { params: IdParams } }, async (request, reply) => {
    const label = await findLabel(app.ctx.db, currentAccount(request).id, request.params.id);
    requireAdministrator(request);
    await deleteLabel(app.ctx.db, label);
    return reply.status(200).send();
  });
};
