/**
 * One knex instance from one URL, for every engine the legacy side runs on:
 * `postgres://…` (node-postgres), `mysql://…` / `mariadb://…` (mysql2), `pglite:memory` or `pglite:/dir` (embedded).
 * Connection problems surface as UnavailableError naming the URL without its password.
 */
import knexFactory, { type Knex } from 'knex';
import ClientPgLite from 'knex-pglite';
import { databaseUrlSchema, redactUrl } from './config.ts';
import { ConfigError, UnavailableError, messageOf } from './errors.ts';

export type Engine = 'postgres' | 'mysql' | 'pglite';

export function engineOf(url: string): Engine {
  if (/^postgres(ql)?:/.test(url)) return 'postgres';
  if (/^(mysql|mariadb):/.test(url)) return 'mysql';
  if (url.startsWith('pglite:')) return 'pglite';
  throw new ConfigError('database url', `unsupported database URL ${JSON.stringify(redactUrl(url))}`, {
    hint: 'use postgres://user@host:port/db, mysql://user@host:port/db, or pglite:memory',
  });
}

export { redactUrl };

/**
 * knex prints its warnings with console.log, on stdout, which results and --json own: they go to stderr,
 * one line each. A failed connection attempt is left out: connectKnex or the runner reports it, once.
 */
function knexLogLine(message: unknown): void {
  const text = (typeof message === 'string' ? message : String(message)).split('\n')[0]!;
  if (text.startsWith('Acquire connection error')) return;
  process.stderr.write(`knex: ${text}\n`);
}
const knexLog = { debug: knexLogLine, warn: knexLogLine, error: knexLogLine, deprecate: knexLogLine };

export function knexConfigFor(url: string): Knex.Config {
  return { ...engineConfigFor(url), log: knexLog };
}

function engineConfigFor(url: string): Knex.Config {
  const parsed = databaseUrlSchema.safeParse(url);
  if (!parsed.success) {
    throw new ConfigError('database url', `${parsed.error.issues[0]?.message} (got ${JSON.stringify(redactUrl(url))})`);
  }
  switch (engineOf(url)) {
    case 'postgres':
      return { client: 'pg', connection: url, pool: { min: 0, max: 8 } };
    case 'mysql': {
      const mysqlUrl = new URL(url.replace(/^mariadb:/, 'mysql:'));
      return {
        client: 'mysql2',
        connection: {
          host: mysqlUrl.hostname,
          port: Number(mysqlUrl.port || 3306),
          user: decodeURIComponent(mysqlUrl.username || 'root'),
          password: decodeURIComponent(mysqlUrl.password),
          database: mysqlUrl.pathname.replace(/^\//, '') || undefined,
          // Our timestamps are UTC instants; without this mysql2 reads DATETIME as process-local time.
          timezone: 'Z',
          // DECIMAL as strings, like node-postgres: exact money, never a float (DESIGN.md section 4.9).
          decimalNumbers: false,
          supportBigNumbers: true,
          bigNumberStrings: true,
          multipleStatements: false,
        },
        // A TIMESTAMP column converts between UTC and the session's time zone, the server's own by default:
        // on a server not in UTC the instants mysql2 sends as UTC text were stored hours off (and Debezium,
        // which reads the UTC inside, showed it). A UTC session stores and reads them as they are.
        pool: { min: 0, max: 8, afterCreate: utcSession },
      };
    }
    case 'pglite': {
      const location = url.slice('pglite:'.length);
      const inMemory = location === '' || location === 'memory';
      // knex's typings know no PGlite connection; knex-pglite takes {} (in memory) or { filename }.
      const connection = (inMemory ? {} : { filename: location.replace(/^\/\/(?=\/)/, '') }) as Knex.StaticConnectionConfig;
      return { client: ClientPgLite as unknown as typeof Knex.Client, dialect: 'postgres', connection };
    }
  }
}

function utcSession(connection: { query(sql: string, done: (error: Error | null) => void): void }, done: (error: Error | null, connection: unknown) => void): void {
  connection.query("SET time_zone = '+00:00'", (error) => done(error, connection));
}

export function createKnex(url: string): Knex {
  return knexFactory(knexConfigFor(url));
}

/** Opens a connection now, so an unreachable server fails here with a clear message, not mid-run. */
export async function connectKnex(url: string): Promise<Knex> {
  const db = createKnex(url);
  try {
    await db.raw('select 1');
    return db;
  } catch (error) {
    await db.destroy().catch(() => undefined);
    throw new UnavailableError(`database ${redactUrl(url)}`, `cannot connect: ${messageOf(error)}`, {
      cause: error,
      hint: 'check that the server runs and the URL (host, port, user, database) is right; or use pglite:memory for an embedded database',
    });
  }
}
