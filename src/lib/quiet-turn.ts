/**
 * Runs `close` at the end (the check phase, setImmediate) of the first event-loop turn in which
 * `size()` did not grow, or as soon as `full()` says no more may join, and at most `maxTurns` turns
 * after the one that opened it. Under load each turn reads more requests: work that many of them
 * share (a SQLite group commit, a PostgreSQL batch of queries) gathers them while they keep coming,
 * and a lone request waits one empty turn more. The turn that opens it counts as growing.
 */
export function closeAtQuietTurn(size: () => number, full: () => boolean, maxTurns: number, close: () => void): void {
  const look = (seen: number, turns: number) =>
    setImmediate(() => {
      const now = size();
      if (now > seen && turns < maxTurns && !full()) look(now, turns + 1);
      else close();
    });
  look(0, 0);
}
