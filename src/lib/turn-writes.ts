/**
 * Responses finished during one turn of the event loop are written together at its end (the
 * check phase, right after the turn's I/O callbacks), as Redis writes its replies before going
 * back to wait for events.
 *
 * Each write to a client's socket wakes the reader on the other side (a load balancer, a proxy,
 * a client on the same machine). Written one by one, every answer wakes a reader that has gone
 * back to sleep since the previous one; written back to back, the first wakes it and the rest
 * find it awake. With SQLite a request is usually answered within the I/O callback that read it,
 * so the requests that arrived together are answered together. An answer waits at most for the
 * other requests of its turn. Measured in bench/README.md ("Answers written at the turn's end").
 *
 * Answers finished in the check phase itself (the SQLite group commit's continuations) would wait
 * for the next turn's end, behind a whole turn of new requests: code that settles work there calls
 * `flushAfterMicrotasks` first, and their answers go out together as soon as the continuations
 * it starts have run.
 */
let pending: (() => void)[] = [];
let atTurnEnd = false;
let afterMicrotasks = false;

/** How many writes went out, in how many flushes (tests observe the batching through it). */
export const turnWriteCounts = { writes: 0, flushes: 0 };

function flush(): void {
  const jobs = pending;
  pending = [];
  if (jobs.length === 0) return;
  turnWriteCounts.flushes++;
  turnWriteCounts.writes += jobs.length;
  let failure: { error: unknown } | null = null;
  for (const job of jobs) {
    try {
      job();
    } catch (error) {
      // The other answers still go out; the first failure is thrown once they have.
      failure ??= { error };
    }
  }
  if (failure) throw failure.error;
}

function flushAtTurnEnd(): void {
  atTurnEnd = false;
  flush();
}

function flushAfterTheseMicrotasks(): void {
  afterMicrotasks = false;
  flush();
}

/** Runs `write` at the end of this turn of the event loop (or after the microtasks `flushAfterMicrotasks` marked), in order. */
export function afterTurn(write: () => void): void {
  pending.push(write);
  if (afterMicrotasks || atTurnEnd) return;
  atTurnEnd = true;
  setImmediate(flushAtTurnEnd);
}

/**
 * The writes queued from now until the microtask queue is empty go out then, together, instead of
 * at the next turn's end. Node runs a `process.nextTick` queued by a microtask only once the
 * microtask queue has drained, so the promise chains this caller is about to resume all run first.
 */
export function flushAfterMicrotasks(): void {
  if (afterMicrotasks) return;
  afterMicrotasks = true;
  queueMicrotask(() => process.nextTick(flushAfterTheseMicrotasks));
}
