import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

// Placeholder until this module's routes are written.
export const agentBotsRoutes: FastifyPluginAsyncTypebox = async () => {};
