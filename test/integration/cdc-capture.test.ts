// `dualrun cdc start | status | stop` on PostgreSQL: the shared capture suite (test/support/cdc-capture-cases.ts)
// on a cluster of the test's own with wal_level=logical, the shop's and the metering example's tables each
// captured in turn. The machine's shared servers (no logical replication, no row binlog) are only read, for
// the exit-4 messages; MariaDB's are in cdc-capture-mariadb.test.ts.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { connectKnex } from '../../src/db.ts';
import { captureSuite } from '../support/cdc-capture-cases.ts';
import { runCli } from '../support/cli.ts';
import { brokers } from '../support/kafka.ts';
import { startThrowawayPostgres } from '../support/throwaway-postgres.ts';

captureSuite({
  name: 'PostgreSQL',
  start: () => startThrowawayPostgres(),
  deleteImage: 'key',
  commitResolutionMs: 1,
  expectOffset: (offset) => expect(Number(offset.lsn)).toBeGreaterThan(0),
  expectStopped: async (db, prefix, stdout) => {
    expect(stdout).toContain(`dropped replication slot dualrun_${prefix}`);
    expect(((await db.raw('select count(*)::int as n from pg_replication_slots where slot_name = ?', [`dualrun_${prefix}`])) as { rows: { n: number }[] }).rows[0]!.n).toBe(0);
  },
});

const env = (): NodeJS.ProcessEnv => ({ KAFKA_BROKERS: brokers().join(','), DUALRUN_LOG_LEVEL: 'silent', CONNECT_URL: '' });

describe('dualrun cdc start on a database that cannot be captured exits 4 naming the setting', () => {
  it('the shared PostgreSQL server (its wal_level read, never changed)', async () => {
    const shared = await connectKnex('postgres://postgres@127.0.0.1:5432/postgres');
    const walLevel = ((await shared.raw('show wal_level')) as { rows: { wal_level: string }[] }).rows[0]!.wal_level;
    await shared.destroy();
    expect(walLevel, 'the shared server must be the one without logical decoding').not.toBe('logical');
    const result = await runCli(['cdc', 'start', '--db', 'postgres://postgres@127.0.0.1:5432/postgres', '--topic-prefix', `cdc${randomUUID().slice(0, 8)}`], env());
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(`wal_level is ${walLevel}`);
    expect(result.stderr).toContain('ALTER SYSTEM SET wal_level = logical;');
    expect(result.stderr).toContain('restart the server');
  });

  it('the embedded PGlite database', async () => {
    const result = await runCli(['cdc', 'start', '--db', 'pglite:memory', '--topic-prefix', `cdc${randomUUID().slice(0, 8)}`], env());
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('PGlite');
  });
});
