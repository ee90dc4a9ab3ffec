/**
 * A fresh, empty database per test file on each engine the legacy side supports (after knex's
 * `withDbs`): a new database on the real PostgreSQL and MariaDB servers, a new folder for PGlite.
 * An unreachable server fails the test with the fix; it is never skipped.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Knex } from 'knex';
import { connectKnex, createKnex } from '../../src/db.ts';

export type TestEngine = 'postgres' | 'mysql' | 'pglite';
export const engines: TestEngine[] = ['postgres', 'mysql', 'pglite'];

const postgresAdminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const mysqlAdminUrl = process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/';

export interface TestDatabase {
  engine: TestEngine;
  /** URL of the fresh database, to hand to the code under test (or a child process). */
  url: string;
  db: Knex;
  drop(): Promise<void>;
}

function withDatabaseName(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

export async function freshDatabase(engine: TestEngine): Promise<TestDatabase> {
  const name = `dualrun_test_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  if (engine === 'pglite') {
    const dir = await mkdtemp(join(tmpdir(), 'dualrun-pglite-'));
    const url = `pglite:${dir}`;
    // PGlite opens its folder as soon as the knex is made, and one folder takes one PGlite at a time:
    // made on first use, so code under test (or a child process) can own the folder until then.
    let db: Knex | undefined;
    return {
      engine,
      url,
      get db() {
        return (db ??= createKnex(url));
      },
      drop: async () => {
        await db?.destroy();
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  const adminUrl = engine === 'postgres' ? postgresAdminUrl : mysqlAdminUrl;
  const admin = await connectKnex(adminUrl).catch((error: unknown) => {
    const start = engine === 'postgres'
      ? 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start'
      : 'start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd';
    throw new Error(`${engine} server is unreachable at ${adminUrl}; start it with \`${start}\` (.ci/run does) or set ${engine === 'postgres' ? 'DATABASE_URL' : 'MYSQL_URL'}`, { cause: error });
  });
  await admin.raw(`create database ${name}`);
  const url = withDatabaseName(adminUrl, name);
  const db = createKnex(url);
  return {
    engine,
    url,
    db,
    drop: async () => {
      await db.destroy();
      await admin.raw(engine === 'postgres' ? `drop database if exists ${name} with (force)` : `drop database if exists ${name}`);
      await admin.destroy();
    },
  };
}
