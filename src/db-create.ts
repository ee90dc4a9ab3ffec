/**
 * The legacy database of a scenario run (`dualrun demo`, `dualrun check --scenario`): opened before
 * anything else starts, so a wrong URL fails in a second rather than after a broker start. A database
 * that does not exist yet on a reachable PostgreSQL or MariaDB server is created: a scenario's database
 * is scratch, and the README's own example names one that is not there (postgres://…/shop).
 */
import type { Knex } from 'knex';
import { connectKnex, engineOf, redactUrl } from './db.ts';
import { UnavailableError, messageOf } from './errors.ts';

const MISSING_DATABASE = new Set(['3D000', 'ER_BAD_DB_ERROR']);

function missingDatabase(error: unknown): boolean {
  const code = (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  return typeof code === 'string' && MISSING_DATABASE.has(code);
}

/** The same server with its maintenance database (PostgreSQL) or none (MariaDB): where CREATE DATABASE runs. */
function serverUrl(url: string): { server: string; name: string } {
  const parsed = new URL(url);
  const name = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  parsed.pathname = engineOf(url) === 'postgres' ? '/postgres' : '/';
  return { server: parsed.toString(), name };
}

export async function connectOrCreate(url: string, progress: (text: string) => void): Promise<Knex> {
  try {
    return await connectKnex(url);
  } catch (error) {
    if (engineOf(url) === 'pglite' || !missingDatabase(error)) throw error;
  }
  const { server, name } = serverUrl(url);
  const admin = await connectKnex(server);
  try {
    await admin.raw('CREATE DATABASE ??', [name]);
  } catch (error) {
    throw new UnavailableError(`database ${redactUrl(url)}`, `database ${name} does not exist, and creating it failed: ${messageOf(error)}`, {
      cause: error,
      hint: `create it (CREATE DATABASE ${name}) as a user who may, or drop --db to use a fresh embedded database`,
    });
  } finally {
    await admin.destroy();
  }
  progress(`legacy database: created database ${name} on ${redactUrl(server)}`);
  return connectKnex(url);
}
