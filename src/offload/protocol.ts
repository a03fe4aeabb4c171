import type { RequestScope } from '../auth/guard.js';
import { HttpError } from '../lib/errors.js';
import type { ReadName } from '../modules/reads.js';
import type { PresenceChange } from '../realtime/presence.js';

/**
 * What a read handler receives: the parsed request and what the hooks learnt of its caller. It is
 * copied to a worker (structured clone), so it holds data only.
 */
export interface ReadRequest<P = unknown, Q = unknown, B = unknown> extends RequestScope {
  params: P;
  query: Q;
  body: B;
}

/** A read's answer: its status and its JSON text, or the body of the HttpError it threw. */
export type ReadResult = { status: number; json: string | Uint8Array } | { status: number; failure: Record<string, unknown> };

export interface WorkerMessage {
  id: number;
  name: ReadName;
  request: ReadRequest;
}

/** Presence marks made on the request thread since the last message (realtime/presence.ts). */
export interface PresenceMessage {
  presence: PresenceChange;
}

export type ReadReply = ({ id: number } & ReadResult) | { id: number; error: { message: string; stack?: string } };

/**
 * Runs a read handler and encodes its answer as the request thread's serializer would
 * (JSON.stringify; a handler that renders JSON text itself returns it as a Buffer). An HttpError
 * becomes its status and body; anything else is thrown on.
 */
export async function encodeResult(run: () => Promise<unknown>): Promise<ReadResult> {
  try {
    const value = await run();
    return { status: 200, json: value instanceof Uint8Array ? value : JSON.stringify(value) };
  } catch (error) {
    if (error instanceof HttpError) return { status: error.statusCode, failure: error.body };
    throw error;
  }
}
