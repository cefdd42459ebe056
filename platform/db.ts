import path from 'node:path';
import { sql as sqlTag, type SQL } from 'drizzle-orm';
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import { PgDialect } from 'drizzle-orm/pg-core';
import postgres from 'postgres';
import * as tables from '../schema/tables';

export type Db = PostgresJsDatabase<typeof tables>;
export interface Database {
  db: Db;
  sql: postgres.Sql;
  close(): Promise<void>;
}

export const MIGRATIONS_DIR = path.resolve(__dirname, '../schema/migrations');

export class DatabaseUnreachableError extends Error {
  readonly exitCode = 2;
  constructor(url: string, cause: unknown) {
    super(
      `Cannot reach PostgreSQL at ${redactUrl(url)}: ${cause instanceof Error ? cause.message : String(cause)}. ` +
        'Check DATABASE_URL (host, port, user, password, database), or unset it to use the embedded PostgreSQL.',
    );
    this.name = 'DatabaseUnreachableError';
  }
}

export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

export function openDatabase(url: string, opts: { max?: number } = {}): Database {
  const sql = postgres(url, { max: opts.max ?? 10, onnotice: () => undefined, connect_timeout: 10 });
  return { db: drizzle(sql, { schema: tables }), sql, close: () => sql.end({ timeout: 5 }) };
}

/**
 * Several writes as one statement, each but the last a data-modifying CTE (PostgreSQL runs every one
 * to completion). Run alone it commits alone: the rows that statement triggers keep per program or
 * per run (program_spend, run_verdict_tally) stay locked for the commit only, where a transaction
 * held them across its round trips to a busy client and made every other writer wait.
 */
export function oneStatement(writes: SQL[]): SQL {
  const last = writes[writes.length - 1];
  const before = writes.slice(0, -1).map((write, k) => sqlTag`${sqlTag.raw(`write_${k}`)} as (${write})`);
  return before.length ? sqlTag`with ${sqlTag.join(before, sqlTag`, `)} ${last}` : last;
}

/** Opens the database and proves it answers, failing fast with a message that says what to fix. */
/**
 * `ids` as one jsonb parameter, for `column = any(…)`: drizzle's inArray builds its list of
 * parameters at 8–17 µs an id (its entity checks on every part), 0.44 ms for a chunk's 25 ids.
 */
export const anyOf = (ids: readonly string[]) =>
  sqlTag`any(array(select jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb)))`;

const dialect = new PgDialect();

/**
 * `query` as a statement each connection prepares once (postgres.js names it, PostgreSQL parses and
 * plans it once). drizzle sends every query unnamed: two round trips each (parse and describe, then
 * bind) and a parse and plan on the server, for statements a judging chunk runs thousands of times.
 * A transaction has no client of its own: there it runs through drizzle.
 */
export async function runPrepared<T extends Record<string, unknown>>(db: Db, query: SQL): Promise<T[]> {
  const client = (db as Db & { $client?: postgres.Sql }).$client;
  if (!client) return (await db.execute<T>(query)) as unknown as T[];
  const { sql: text, params } = dialect.sqlToQuery(query);
  return client.unsafe<T[]>(text, params as postgres.ParameterOrJSON<never>[], { prepare: true });
}

export async function connectDatabase(url: string, opts: { max?: number } = {}): Promise<Database> {
  const database = openDatabase(url, opts);
  try {
    await database.sql`select 1`;
  } catch (err) {
    await database.sql.end({ timeout: 1 }).catch(() => undefined);
    throw new DatabaseUnreachableError(url, err);
  }
  return database;
}

/** Applies the committed drizzle migrations; already-applied ones are skipped, so it is safe at every start. */
export async function migrateDatabase(url: string): Promise<void> {
  // One migrator at a time (stack, workers and tests may start together): a session advisory lock
  // on a single-connection client, which the migrator then uses.
  const single = openDatabase(url, { max: 1 });
  try {
    await single.sql`select pg_advisory_lock(7233001)`;
    await migrate(single.db, { migrationsFolder: MIGRATIONS_DIR });
    await single.sql`select pg_advisory_unlock(7233001)`;
  } finally {
    await single.close();
  }
}
