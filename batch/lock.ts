/**
 * The database lock that keeps two schedulers (or a scheduler and a person) from running the same
 * transformation and date at once: a session advisory lock (`pg_try_advisory_lock`) on PostgreSQL,
 * `GET_LOCK` on MariaDB (named after the database too, since its names are server-wide), each held on a connection of its own for the whole run, so it is released
 * when the run ends or when its process dies (the server drops the session). PGlite is embedded and
 * has one connection, which a session lock cannot exclude from itself; there the lock is taken on
 * that connection and an in-process guard (used on every engine) does the excluding.
 */
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { Engine } from '../src/db.ts';

export interface RunLock {
  release(): Promise<void>;
}

const heldInProcess = new WeakMap<Knex, Set<string>>();

/** A signed 64-bit key for PostgreSQL's advisory lock functions, stable for a lock name. */
export function advisoryKey(name: string): string {
  return createHash('sha256').update(name).digest().readBigInt64BE(0).toString();
}

/** MariaDB lock names are at most 64 characters: long ones are shortened to a hash. */
export function lockName(transform: string, businessDate: string): string {
  const name = `dualrun:${transform}:${businessDate}`;
  return name.length <= 64 ? name : `dualrun:${createHash('sha256').update(name).digest('hex').slice(0, 48)}`;
}

interface KnexClient {
  acquireConnection(): Promise<unknown>;
  releaseConnection(connection: unknown): Promise<void>;
}

async function firstValue(result: unknown): Promise<unknown> {
  // pg and PGlite: { rows: [...] }; mysql2: [rows, fields].
  const rows = Array.isArray(result) ? (result[0] as unknown[]) : (result as { rows: unknown[] }).rows;
  const row = rows[0] as Record<string, unknown> | undefined;
  return row ? Object.values(row)[0] : undefined;
}

/** Takes the lock now or returns undefined when someone else holds it; never waits. */
export async function tryLock(db: Knex, engine: Engine, name: string): Promise<RunLock | undefined> {
  const local = heldInProcess.get(db) ?? new Set<string>();
  heldInProcess.set(db, local);
  if (local.has(name)) return undefined;
  local.add(name);
  try {
    const remote = await tryDatabaseLock(db, engine, name);
    if (!remote) {
      local.delete(name);
      return undefined;
    }
    return {
      release: async () => {
        try {
          await remote.release();
        } finally {
          local.delete(name);
        }
      },
    };
  } catch (error) {
    local.delete(name);
    throw error;
  }
}

async function tryDatabaseLock(db: Knex, engine: Engine, name: string): Promise<RunLock | undefined> {
  // GET_LOCK names are server-wide (advisory locks on PostgreSQL are per database): the database's name
  // goes into the lock name, hashed to fit MariaDB's 64 characters.
  const mysqlName = "CONCAT('dualrun:', LEFT(SHA2(CONCAT(DATABASE(), '/', ?), 256), 56))";
  const [lockSql, unlockSql, binding] =
    engine === 'mysql'
      ? [`SELECT GET_LOCK(${mysqlName}, 0) AS ok`, `SELECT RELEASE_LOCK(${mysqlName}) AS ok`, name]
      : ['SELECT pg_try_advisory_lock(CAST(? AS BIGINT)) AS ok', 'SELECT pg_advisory_unlock(CAST(? AS BIGINT)) AS ok', advisoryKey(name)];
  if (engine === 'pglite') {
    const ok = await firstValue(await db.raw(lockSql, [binding]));
    return ok === true ? { release: async () => void (await db.raw(unlockSql, [binding])) } : undefined;
  }
  const client = db.client as KnexClient;
  const connection = await client.acquireConnection();
  try {
    const ok = await firstValue(await db.raw(lockSql, [binding]).connection(connection));
    if (ok !== true && Number(ok) !== 1) {
      await client.releaseConnection(connection);
      return undefined;
    }
  } catch (error) {
    await client.releaseConnection(connection);
    throw error;
  }
  return {
    release: async () => {
      try {
        await db.raw(unlockSql, [binding]).connection(connection);
      } finally {
        await client.releaseConnection(connection);
      }
    },
  };
}
