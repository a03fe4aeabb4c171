import { parseArgs } from 'node:util';
import { loadConfig, ConfigError } from './config.js';
import { openStore } from './db/connection.js';
import { migrateToLatest } from './db/migrate.js';
import { HttpError } from './lib/errors.js';
import { runCommand, COMMANDS, type CommandName } from './cli/commands.js';
import { ensureFirstAdmin } from './cli/bootstrap.js';

const USAGE = `Usage: parley <command> [options] [--json]

Commands:
  start                                  run the server (migrates first)
  migrate                                apply database migrations
  create-platform-app --name N           create a platform app, print its access_token
  create-account --name N                create an account
  create-user --email E --password P --name N [--account ID --role administrator|agent]
  grant --platform-app ID --account ID   let a platform app manage an existing account

Configuration comes from the environment (DATABASE_URL, PORT, …; see README).`;

async function start(): Promise<void> {
  const config = loadConfig();
  // Loaded here so admin commands do not pay for (or depend on) the whole route table.
  const { buildApp } = await import('./app.js');
  const { app, ctx } = await buildApp(config);
  const firstRun = await ensureFirstAdmin(ctx.db, config);
  if (firstRun) {
    const lines = [
      '',
      'Parley is ready. Sign in with:',
      `  email:    ${firstRun.email}`,
      firstRun.generatedPassword ? `  password: ${firstRun.generatedPassword}   (generated; shown only once)` : '  password: (from PARLEY_ADMIN_PASSWORD)',
      `  api_access_token: ${firstRun.accessToken}`,
      `  account id: ${firstRun.accountId}`,
      '',
    ];
    process.stdout.write(lines.join('\n') + '\n');
  }
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    // close() stops accepting connections, lets in-flight requests finish, then runs onClose (database).
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    // Keep-alive sockets that finish their last request while we close would otherwise linger
    // until their idle timeout: close each as soon as it is idle.
    const reaper = setInterval(() => app.server.closeIdleConnections(), 50);
    reaper.unref();
    await app.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  await app.listen({ port: config.port, host: config.host });
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE + '\n');
    return command ? 0 : 1;
  }
  if (command === 'start') {
    await start();
    return -1;
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      json: { type: 'boolean', default: false },
      name: { type: 'string' },
      email: { type: 'string' },
      password: { type: 'string' },
      account: { type: 'string' },
      role: { type: 'string' },
      'platform-app': { type: 'string' },
    },
    strict: true,
  });
  if (command === 'migrate') {
    const config = loadConfig();
    const store = openStore(config);
    try {
      const applied = await migrateToLatest(store.db as never, store.engine);
      print(values.json, { applied }, applied.length ? `Applied: ${applied.join(', ')}` : 'Database is up to date.');
    } finally {
      await store.close();
    }
    return 0;
  }
  if (!(COMMANDS as readonly string[]).includes(command)) throw new CliError(`Unknown command "${command}". Run "parley help".`);
  const config = loadConfig();
  const store = openStore(config);
  try {
    await migrateToLatest(store.db as never, store.engine);
    const result = await runCommand(store.db, command as CommandName, values);
    print(values.json, result.json, result.text);
  } finally {
    await store.close();
  }
  return 0;
}

export class CliError extends Error {}

function print(json: boolean | undefined, data: unknown, text: string): void {
  process.stdout.write((json ? JSON.stringify(data) : text) + '\n');
}

function describeError(error: unknown): string {
  if (error instanceof HttpError) {
    const body = error.body;
    return String(body.message ?? body.error ?? error.message);
  }
  if (error instanceof Error) return error.message;
  return String(error);
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    const known = error instanceof CliError || error instanceof ConfigError || error instanceof HttpError || (error as { code?: string })?.code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`parley: ${describeError(error)}\n`);
    if (!known && process.env.PARLEY_DEBUG) process.stderr.write(String((error as Error)?.stack) + '\n');
    process.exitCode = 1;
  },
);
