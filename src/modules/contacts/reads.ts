import type { Static } from '@sinclair/typebox';
import { currentAccount } from '../../auth/guard.js';
import type { AppContext } from '../../context.js';
import { unprocessable } from '../../lib/errors.js';
import { pageNumber, present } from '../../lib/params.js';
import type { ReadRequest } from '../../offload/protocol.js';
import { findContacts } from './finder.js';
import { presentContacts, type ContactRow } from './presenter.js';
import type { FilterBody, ListQueryT, SearchQuery } from './schemas.js';

/** include_contact_inboxes defaults to true; only the string "true" keeps it on when given. */
export const withInboxes = (q: { include_contact_inboxes?: string }): boolean =>
  q.include_contact_inboxes === undefined || q.include_contact_inboxes === '' ? true : q.include_contact_inboxes === 'true';

const labelsOf = (q: ListQueryT): string[] | undefined => {
  const list = [...(q.labels ?? []), ...(q['labels[]'] ?? [])].filter((l) => l.trim() !== '');
  return list.length ? list : undefined;
};

async function listPayload(ctx: AppContext, contacts: ContactRow[], count: number, page: number, inboxes: boolean) {
  return {
    meta: { count, current_page: page },
    payload: await presentContacts(ctx.db, contacts, { withContactInboxes: inboxes }),
  };
}

/** ContactsController#index. */
export async function listContacts(ctx: AppContext, request: ReadRequest<unknown, ListQueryT>) {
  const account = currentAccount(request);
  const page = pageNumber(request.query.page);
  const { contacts, count } = await findContacts(ctx, { accountId: account.id, page, sort: request.query.sort, labels: labelsOf(request.query) });
  return listPayload(ctx, contacts, count, page, withInboxes(request.query));
}

/** ContactsController#search: a partial match on name, email, phone number or identifier. */
export async function searchContacts(ctx: AppContext, request: ReadRequest<unknown, Static<typeof SearchQuery>>) {
  const account = currentAccount(request);
  if (!present(request.query.q)) throw unprocessable('Specify search string with parameter q');
  const page = pageNumber(request.query.page);
  const { contacts, count } = await findContacts(ctx, {
    accountId: account.id,
    page,
    sort: request.query.sort,
    labels: labelsOf(request.query),
    search: request.query.q,
  });
  return listPayload(ctx, contacts, count, page, withInboxes(request.query));
}

/** ContactsController#filter: the filter engine's conditions over the account's contacts. */
export async function filterContacts(ctx: AppContext, request: ReadRequest<unknown, ListQueryT, Static<typeof FilterBody> | undefined>) {
  const account = currentAccount(request);
  const body = request.body ?? {};
  const page = pageNumber(request.query.page ?? body.page);
  const { contacts, count } = await findContacts(ctx, {
    accountId: account.id,
    page,
    sort: request.query.sort,
    filter: body.payload === undefined ? null : body.payload,
  });
  return listPayload(ctx, contacts, count, page, withInboxes(request.query));
}
