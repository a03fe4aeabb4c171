import { parentPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import type { Config } from '../config.js';
import type { AppContext } from '../context.js';
import { openStore } from '../db/connection.js';
import { EventBus } from '../events/bus.js';
import { setAttachmentBaseUrl } from '../modules/messages/files.js';
import { READ_HANDLERS } from '../modules/reads.js';
import { applyPresenceChange } from '../realtime/presence.js';
import { encodeResult, type PresenceMessage, type ReadReply, type ReadRequest, type WorkerMessage } from './protocol.js';

/**
 * A read worker (offload/pool.ts): the read handlers of modules/reads.ts on a read-only SQLite
 * connection of its own. It writes nothing and emits nothing.
 */
const port = parentPort!;
const config = (workerData as { config: Config }).config;
const store = openStore(config, { readOnly: true });
const log = pino({ level: config.logLevel, base: { thread: 'read-worker' } });
const ctx: AppContext = { db: store.db, engine: store.engine, config, events: new EventBus(), log };
// What the request thread sets when it registers its routes, and the reads render with.
setAttachmentBaseUrl(config.frontendUrl);

port.on('message', (message: WorkerMessage | PresenceMessage) => {
  if ('presence' in message) return applyPresenceChange(message.presence);
  const handler = READ_HANDLERS[message.name] as (ctx: AppContext, request: ReadRequest) => Promise<unknown>;
  encodeResult(() => handler(ctx, message.request)).then(
    (result) => port.postMessage({ id: message.id, ...result } satisfies ReadReply),
    (error: unknown) => {
      const e = error instanceof Error ? error : new Error(String(error));
      port.postMessage({ id: message.id, error: { message: e.message, stack: e.stack } } satisfies ReadReply);
    },
  );
});
port.postMessage('ready');
