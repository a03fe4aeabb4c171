/**
 * The benchmark's ceiling: a bare Fastify server answering a static, profile-sized JSON object
 * (about 0.6 KB, the shape of GET /api/v1/profile). Whatever one request costs here is the
 * least any Parley request can cost on this machine; scenarios are reported as a ratio to it.
 */
import Fastify from 'fastify';

export const PROFILE_LIKE = {
  id: 2,
  access_token: 'Qh3mJ8yZr2WkPx7VbN4c',
  account_id: 1,
  available_name: 'Maria A',
  avatar_url: '',
  confirmed: true,
  display_name: null,
  message_signature: null,
  email: 'agent1@bench.test',
  hmac_identifier: '',
  inviter_id: null,
  name: 'Maria A',
  provider: 'email',
  pubsub_token: 'x7PkW2mQ9vLr4TbN8c',
  role: 'agent',
  ui_settings: {},
  uid: 'agent1@bench.test',
  type: null,
  custom_attributes: {},
  accounts: [
    {
      id: 1,
      name: 'Bench',
      status: 'active',
      active_at: '2025-01-01T00:00:00Z',
      role: 'agent',
      permissions: ['agent'],
      availability: 'online',
      availability_status: 'online',
      auto_offline: true,
      custom_role_id: null,
      custom_role: null,
    },
  ],
};

async function main(): Promise<void> {
  const app = Fastify({ logger: false });
  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/api/v1/profile', async () => PROFILE_LIKE);
  const close = async () => {
    await app.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void close());
  process.on('SIGINT', () => void close());
  await app.listen({ port: Number(process.env.PORT ?? 3999), host: process.env.HOST ?? '127.0.0.1' });
}

if (import.meta.url === `file://${process.argv[1]}`) void main();
