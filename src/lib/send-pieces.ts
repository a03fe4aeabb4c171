import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyReply } from 'fastify';

/** The content type Fastify gives a JSON answer. */
export const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * Answers 200 with a JSON body kept as byte pieces (the conversation list's rendered items,
 * conversations/fragments.ts), without joining them: the corked socket takes them in one writev
 * with the headers. Joining them first (Buffer.concat) allocated and copied a fresh buffer of a
 * whole page (~70 KB) per request, and the first touch of its memory page-faulted: the copy and
 * the faults were about a tenth of the list route's CPU (perf, 2026-12-06).
 * The reply is hijacked for the write, so the headers that hooks set before the handler (CORS)
 * are copied from it; Fastify still runs onResponse and logs the request when the response
 * finishes, as for any reply. Like every answer on SQLite, it is written at the end of the event
 * loop's turn, with the others finished in it (`writeAnswer`).
 */
export function sendJsonPieces(reply: FastifyReply, pieces: readonly Buffer[]): void {
  let length = 0;
  for (const piece of pieces) length += piece.length;
  const headers: OutgoingHttpHeaders = { ...(reply.getHeaders() as OutgoingHttpHeaders), 'content-type': JSON_TYPE, 'content-length': String(length) };
  reply.hijack();
  const res = reply.raw;
  const head = reply.request.method === 'HEAD';
  // On SQLite with the other answers of this turn of the event loop (lib/turn-writes.ts).
  reply.server.writeAnswer(() => {
    res.writeHead(200, headers);
    if (head) {
      res.end();
      return;
    }
    // end() uncorks on the next tick; this cork keeps every piece in the same flush.
    res.cork();
    for (const piece of pieces) res.write(piece);
    res.end();
    res.uncork();
  });
}
