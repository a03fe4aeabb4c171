import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type SQLite from 'better-sqlite3';
import type pg from 'pg';
import {
  type DefaultQueryCompiler,
  Kysely,
  PostgresDialect,
  PostgresQueryCompiler,
  type Driver,
  SqliteDialect,
  SqliteQueryCompiler,
  ValueNode,
  type LimitNode,
  type OffsetNode,
  type OperationNode,
  type SelectModifierNode,
} from 'kysely';
import { DEFAULT_PG_POOL_SIZE, DEFAULT_SQLITE_CACHE_MB, type Config, type Engine } from '../config.js';
import type { Database } from './types.js';
import { startCheckpointer, WAL_PAGES_BOUND } from './checkpointer.js';
import { CommitProbe } from './commit-probe.js';
import { GroupCommitSqliteDriver } from './group-commit.js';
import { PipelinedPostgresDriver, pipelinedAdapters } from './pg-pipeline.js';
import { loadPg, loadSqlite } from './engine-modules.js';
import { NamedQuery, type RowShape } from './pg-named-query.js';
import { ReadSnapshot } from './read-snapshot.js';

/** The better-sqlite3 handle behind a root Kysely instance (SQLite only), for synchronous hot reads. */
export const rawSqlite = new WeakMap<Kysely<Database>, SQLite.Database>();

/** Whether anything was committed since a last look (SQLite only; db/epochs.ts). */
export const commitProbes = new WeakMap<Kysely<Database>, CommitProbe>();

export interface Store {
  db: Kysely<Database>;
  engine: Engine;
  close(): Promise<void>;
}

export function openStore(config: Pick<Config, 'engine' | 'databaseUrl' | 'pgSchema' | 'sqliteCacheMb' | 'pgPoolSize' | 'pgPipeline'>): Store {
  if (config.engine === 'postgres') {
    // Queries are sent without waiting for the previous answer (db/pg-pipeline.ts); PG_PIPELINE=0
    // sends one at a time per connection, as Kysely's own driver does (for a proxy that cannot take it).
    const pipeline = config.pgPipeline ?? true;
    const pool = new (loadPg().Pool)({
      connectionString: config.databaseUrl,
      max: config.pgPoolSize ?? DEFAULT_PG_POOL_SIZE,
      pipeline,
      ...(config.pgSchema ? { options: `-c search_path=${config.pgSchema}` } : {}),
    });
    // An idle client losing its connection must not crash the process; the pool replaces it.
    pool.on('error', () => undefined);
    pool.on('connect', nameRecurringStatements);
    const db = new Kysely<Database>({ dialect: pipeline ? new PipelinedPostgresDialect(pool) : new ParleyPostgresDialect({ pool }) });
    if (pipeline) pipelinedAdapters.add(db.getExecutor().adapter);
    return { db, engine: 'postgres', close: () => db.destroy() };
  }
  mkdirSync(dirname(config.databaseUrl), { recursive: true });
  const sqlite = new (loadSqlite())(config.databaseUrl);
  // WAL lets the CLI and the server share the file; busy_timeout turns lock contention into a short wait.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma(`cache_size = -${(config.sqliteCacheMb ?? DEFAULT_SQLITE_CACHE_MB) * 1024}`);
  sqlite.pragma('temp_store = MEMORY');
  // Checkpoints run in a worker thread (checkpointer.ts); this connection's own, at a higher mark
  // than SQLite's 1 000 pages, only bounds the WAL when the worker falls behind.
  sqlite.pragma(`wal_autocheckpoint = ${WAL_PAGES_BOUND}`);
  const checkpointer = startCheckpointer(config.databaseUrl, (error) => {
    process.emitWarning(`SQLite checkpoint worker stopped: ${error.message}`);
  });
  const snapshot = new ReadSnapshot(sqlite);
  const prepare = statementCache(sqlite, snapshot);
  const db = new Kysely<Database>({ dialect: new ParleySqliteDialect(sqlite, prepare, snapshot) });
  rawSqlite.set(db, sqlite);
  sqliteConnections.set(db.getExecutor().adapter, { prepare, snapshot });
  const probe = new CommitProbe(config.databaseUrl);
  commitProbes.set(db, probe);
  return {
    db,
    engine: 'sqlite',
    close: async () => {
      await checkpointer.stop();
      await db.destroy();
      probe.close();
    },
  };
}

/** Row-lock clauses: SQLite has none, and needs none (one connection runs one transaction at a time). */
const ROW_LOCKS = new Set(['ForUpdate', 'ForNoKeyUpdate', 'ForShare', 'ForKeyShare', 'NoWait', 'SkipLocked']);

/**
 * LIMIT and OFFSET as literals, on both engines; only plain integers are inlined, so the SQL text
 * differs per page size and offset (a handful recur), which SQLite's statement cache and
 * PostgreSQL's named statements absorb.
 * - SQLite marks a bound LIMIT/OFFSET parameter as one the plan depends on, and better-sqlite3
 *   binds on every run, so a statement with `limit ?` was parsed and planned anew on every
 *   execution (~10 µs: the list's stamps took 25 µs instead of 15).
 * - PostgreSQL plans a named statement's generic plan without knowing a bound limit, so it costs
 *   the generic plan as a read of every matching row, finds it dearer than the custom plans, and
 *   keeps planning the statement at every execution. The list's page-of-ids query spent 0.35 ms in
 *   that planning (its bind) against 0.06 ms executing, on every request.
 */
// A mixin's base constructor must take `...args: any[]` (TypeScript's rule for mixin classes).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function literalPaging<C extends new (...args: any[]) => DefaultQueryCompiler>(Base: C) {
  return class extends Base {
    protected override visitLimit(node: LimitNode): void {
      this.append('limit ');
      this.visitIntegerOrNode(node.limit);
    }

    protected override visitOffset(node: OffsetNode): void {
      this.append('offset ');
      this.visitIntegerOrNode(node.offset);
    }

    private visitIntegerOrNode(node: OperationNode): void {
      if (ValueNode.is(node) && typeof node.value === 'number' && Number.isSafeInteger(node.value)) this.append(String(node.value));
      else this.visitNode(node);
    }
  };
}

/**
 * Parley's SQLite SQL: literal paging (above), and `forUpdate()` and the other row locks left
 * out, so a query written for PostgreSQL's concurrent transactions runs unchanged here.
 */
class ParleySqliteCompiler extends literalPaging(SqliteQueryCompiler) {
  protected override visitSelectModifier(node: SelectModifierNode): void {
    if (node.modifier !== undefined && ROW_LOCKS.has(node.modifier)) return;
    super.visitSelectModifier(node);
  }
}

/** Parley's PostgreSQL SQL: literal paging (above). */
class ParleyPostgresCompiler extends literalPaging(PostgresQueryCompiler) {}

class ParleyPostgresDialect extends PostgresDialect {
  override createQueryCompiler(): PostgresQueryCompiler {
    return new ParleyPostgresCompiler();
  }
}

class PipelinedPostgresDialect extends ParleyPostgresDialect {
  constructor(private readonly pool: pg.Pool) {
    super({ pool });
  }

  override createDriver(): Driver {
    return new PipelinedPostgresDriver(this.pool);
  }
}

class ParleySqliteDialect extends SqliteDialect {
  constructor(
    private readonly sqlite: SQLite.Database,
    private readonly prepare: (source: string) => RowStatement,
    private readonly snapshot: ReadSnapshot,
  ) {
    super({ database: sqlite });
  }

  override createDriver(): Driver {
    return new GroupCommitSqliteDriver(this.sqlite, this.prepare, this.snapshot);
  }

  override createQueryCompiler(): SqliteQueryCompiler {
    return new ParleySqliteCompiler();
  }
}

/**
 * A prepared statement whose rows SQLite hands over as arrays, made into objects here. better-sqlite3
 * builds each row object by setting its properties one by one by name (a third of a 20-row
 * `select *` of messages, ~12 µs); objects filled in the statement's column order share one
 * hidden class and cost less to build, to read in presenters and to serialize. The column names
 * are taken again whenever a row's width changes (SQLite re-prepares a `select *` after another
 * connection adds or drops a column). A column renamed under a running process keeps the width
 * and its old name here; that process's own SQL names the old column too, so it needs a restart
 * after such a migration either way.
 * A read-only SELECT run outside a transaction joins the connection's shared read transaction
 * (db/read-snapshot.ts); any other statement ends it first.
 */
export class RowStatement {
  readonly reader: boolean;
  private readonly sharesSnapshot: boolean;
  private names: string[] | null = null;

  constructor(
    private readonly statement: SQLite.Statement,
    private readonly snapshot: ReadSnapshot,
  ) {
    this.reader = statement.reader;
    // RETURNING makes a write a reader; pragmas may write or checkpoint: neither joins.
    this.sharesSnapshot = statement.reader && statement.readonly && /^\s*(select|with)\b/i.test(statement.source);
    if (this.reader) statement.raw(true);
  }

  all(parameters: readonly unknown[]): Record<string, unknown>[] {
    if (this.sharesSnapshot) this.snapshot.beforeRead();
    else this.snapshot.end();
    if (!this.reader) return this.statement.all(...parameters) as Record<string, unknown>[];
    const rows = this.statement.all(...parameters) as unknown[][];
    const out = new Array<Record<string, unknown>>(rows.length);
    for (let i = 0; i < rows.length; i++) out[i] = this.toObject(rows[i]);
    return out;
  }

  run(parameters: readonly unknown[]): SQLite.RunResult {
    this.snapshot.end();
    return this.statement.run(...parameters);
  }

  /** Outside the shared read transaction: the statement stays open across awaits, past its end. */
  *iterate(parameters: readonly unknown[]): IterableIterator<Record<string, unknown>> {
    this.snapshot.end();
    for (const row of this.statement.iterate(...parameters) as IterableIterator<unknown[]>) yield this.toObject(row);
  }

  private toObject(row: unknown[]): Record<string, unknown> {
    let names = this.names;
    if (names === null || names.length !== row.length) names = this.names = this.statement.columns().map((c) => c.name);
    const object: Record<string, unknown> = {};
    for (let i = 0; i < names.length; i++) object[names[i]] = row[i];
    return object;
  }
}

/**
 * A SQLite database's prepared-statement cache and shared read transaction, by the Kysely adapter its root,
 * the instances derived from it and its transactions share (precompiled statements run on them).
 */
export const sqliteConnections = new WeakMap<object, { prepare: (source: string) => RowStatement; snapshot: ReadSnapshot }>();

/**
 * Preparing a statement costs more than running most of ours (Kysely's own SQLite driver
 * prepares every query afresh). Queries are built from fixed shapes, so the same SQL text recurs: keep its statement.
 * Statements are only ever run synchronously (all/run), so sharing one is safe.
 */
function statementCache(sqlite: SQLite.Database, snapshot: ReadSnapshot, limit = 2000): (source: string) => RowStatement {
  const cache = new Map<string, RowStatement>();
  return (source) => {
    let stmt = cache.get(source);
    if (!stmt) {
      stmt = new RowStatement(sqlite.prepare(source), snapshot);
      if (cache.size >= limit) cache.delete(cache.keys().next().value!);
      cache.set(source, stmt);
    }
    return stmt;
  };
}

const NAMED_PER_CONNECTION = 500;

/**
 * PostgreSQL parses and plans every unnamed statement afresh. Statements whose text recurs (the
 * same shape with new parameters: nearly all of ours) are sent as named prepared statements, so
 * each connection parses them once and can reuse their plans (as Rails does by default). After
 * another process changes a table's columns, PostgreSQL refuses a prepared `select *` whose
 * result shape changed: that statement is then prepared again under a new name, and retried at
 * once when no transaction is open (inside one, the error ends the transaction as any would).
 */
function nameRecurringStatements(client: pg.PoolClient): void {
  const names = new Map<string, string>();
  const sightings = new Map<string, number>();
  let prepared = 0;
  let inTransaction = false;
  const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
  const shapes = new Map<string, RowShape>();
  const Named = NamedQuery();
  const execute = (name: string, text: string, values: unknown[]) =>
    new Promise((resolve, reject) => {
      void query(new Named(name, text, values, shapes, (error, result) => (error ? reject(error) : resolve(result))));
    });
  const named = async (name: string, text: string, values: unknown[]): Promise<unknown> => {
    try {
      return await execute(name, text, values);
    } catch (error) {
      if ((error as { code?: string }).code !== '0A000' || !/cached plan/.test(String((error as Error).message))) throw error;
      names.delete(text);
      if (inTransaction) throw error;
      return query(text, values);
    }
  };
  (client as unknown as { query: (...args: unknown[]) => unknown }).query = (text: unknown, values?: unknown, ...rest: unknown[]) => {
    if (typeof text === 'string' && Array.isArray(values) && rest.length === 0) {
      if (values.length === 0) {
        if (/^\s*(begin|start transaction)\b/i.test(text)) inTransaction = true;
        else if (/^\s*(commit|end|rollback(?!\s+to\b))\b/i.test(text)) inTransaction = false;
      } else {
        let name = names.get(text);
        if (!name && prepared < NAMED_PER_CONNECTION) {
          const seen = (sightings.get(text) ?? 0) + 1;
          if (seen >= 2) {
            name = `parley_${++prepared}`;
            names.set(text, name);
            sightings.delete(text);
          } else if (sightings.size < 5000) sightings.set(text, seen);
        }
        if (name) return named(name, text, values);
      }
    }
    return query(text, values, ...rest);
  };
}
