import type { FastifyPluginAsync } from 'fastify';
import { authRoutes } from '../auth/routes.js';
import { accountsRoutes } from './accounts/routes.js';
import { profileRoutes } from './profile/routes.js';
import { agentsRoutes } from './agents/routes.js';
import { agentBotsRoutes } from './agent-bots/routes.js';
import { platformRoutes as platformApiRoutes } from './platform/routes.js';
import { inboxesRoutes } from './inboxes/routes.js';
import { contactsRoutes } from './contacts/routes.js';
import { labelsRoutes } from './labels/routes.js';
import { teamsRoutes } from './teams/routes.js';
import { cannedResponsesRoutes } from './canned-responses/routes.js';
import { customAttributesRoutes } from './custom-attributes/routes.js';
import { customFiltersRoutes } from './custom-filters/routes.js';
import { conversationsRoutes } from './conversations/routes.js';
import { searchRoutes } from './search/routes.js';
import { messagesRoutes } from './messages/routes.js';
import { attachmentFileRoutes } from './messages/files.js';

/**
 * The route table, by mount point. A new module adds one line here.
 * - publicRoutes: no authentication (sign-in, health-like endpoints, files)
 * - apiRoutes: /api/v1, caller authenticated (user or agent bot)
 * - accountRoutes: /api/v1/accounts/:account_id, caller is a member of the account
 * - platformRoutes: /platform/api/v1, platform-app tokens
 */
type Routes = FastifyPluginAsync;

export const publicRoutes: Routes[] = [attachmentFileRoutes, authRoutes];
export const apiRoutes: Routes[] = [profileRoutes, accountsRoutes];
export const accountRoutes: Routes[] = [
  agentsRoutes,
  agentBotsRoutes,
  inboxesRoutes,
  contactsRoutes,
  labelsRoutes,
  teamsRoutes,
  cannedResponsesRoutes,
  customAttributesRoutes,
  customFiltersRoutes,
  conversationsRoutes,
  searchRoutes,
  messagesRoutes,
];
export const platformRoutes: Routes[] = [platformApiRoutes];
