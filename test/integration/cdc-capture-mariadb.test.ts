// `dualrun cdc start | status | stop` on MariaDB: the shared capture suite (test/support/cdc-capture-cases.ts)
// on a mariadbd of the test's own with a row binlog (test/support/throwaway-mariadb.ts), the shop's and the
// metering example's tables each captured in turn by Debezium's MariaDB connector. Then the exit-4 messages,
// through the CLI: the machine's shared server on 3306 (no binlog; read, never changed), and the throwaway
// with a user lacking the replication grants and with a statement binlog — each message naming the setting
// and the statement that fixes it, and the fix it names making the database ready.
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { describe, expect, it } from 'vitest';
import { connectKnex } from '../../src/db.ts';
import { checkCaptureReady } from '../../streaming/connect/database.ts';
import { captureSuite } from '../support/cdc-capture-cases.ts';
import { runCli } from '../support/cli.ts';
import { brokers } from '../support/kafka.ts';
import { startThrowawayMariadb } from '../support/throwaway-mariadb.ts';

/** The connector's replica connections on the server (a binlog dump thread per connector). */
const binlogDumps = async (db: Knex): Promise<number> => {
  const [rows] = (await db.raw('show processlist')) as [{ Command: string }[]];
  return rows.filter((row) => row.Command === 'Binlog Dump').length;
};

const server = captureSuite({
  name: 'MariaDB',
  // A server whose time zone is not UTC: DATETIME(3) columns hold UTC whatever it is, and a TIMESTAMP's
  // conversion from the session's zone is exercised (below).
  start: () => startThrowawayMariadb({ settings: { 'default-time-zone': '+02:00' } }),
  // A team's own orders table may keep its instants in TIMESTAMP(3) (UTC inside, converted from and to the
  // session's time zone) where dualrun's --create-schema makes DATETIME(3): Debezium writes a TIMESTAMP as
  // an ISO instant in UTC, so the same script must decode to the same instants.
  prepare: async (db, domain) => {
    if (domain.name !== 'shop') return;
    await db.raw(`create table orders (
      order_id varchar(64) not null primary key, customer_id varchar(64) not null, currency varchar(16) not null,
      placed_at timestamp(3) not null, status varchar(16) not null, created_at timestamp(3) not null, updated_at timestamp(3) not null
    )`);
  },
  deleteImage: 'row',
  commitResolutionMs: 1000,
  expectOffset: (offset) => {
    expect(String(offset.file)).toMatch(/^binlog\.\d+$/);
    expect(Number(offset.pos)).toBeGreaterThan(0);
  },
  expectStopped: async (db, _prefix, stdout) => {
    expect(stdout).not.toContain('slot');
    // The worker is gone, but the server's dump thread sits waiting for the next binlog event and only
    // finds the connection closed when it sends one: rotate the binlog (an event to every dump thread).
    await db.raw('flush binary logs');
    const deadline = Date.now() + 15_000;
    while ((await binlogDumps(db)) > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
    expect(await binlogDumps(db)).toBe(0);
  },
});

const env = (): NodeJS.ProcessEnv => ({ KAFKA_BROKERS: brokers().join(','), DUALRUN_LOG_LEVEL: 'silent', CONNECT_URL: '' });
const start = (url: string) => runCli(['cdc', 'start', '--db', url, '--topic-prefix', `cdc${randomUUID().slice(0, 8)}`], env());

describe('dualrun cdc start on a MariaDB that cannot be captured exits 4 naming the setting and its fix', () => {
  it('the shared server on 3306 (no binlog: its settings read, never changed)', async () => {
    const shared = await connectKnex('mysql://root@127.0.0.1:3306/mysql');
    const [rows] = (await shared.raw('select @@log_bin as logBin, @@binlog_format as format')) as [{ logBin: number; format: string }[]];
    await shared.destroy();
    expect(Number(rows[0]!.logBin), 'the shared server must be the one without a binlog').toBe(0);
    const result = await start('mysql://root@127.0.0.1:3306/mysql');
    expect(result.code, result.stderr).toBe(4);
    expect(result.stderr).toContain('database mysql://root@127.0.0.1:3306/mysql');
    expect(result.stderr).toContain('cannot capture changes with Debezium');
    expect(result.stderr).toContain('log_bin is OFF');
    expect(result.stderr).toContain('log-bin in the [mariadbd] section');
    expect(result.stderr).toContain('restart mariadbd');
    if (rows[0]!.format !== 'ROW') expect(result.stderr).toContain(`binlog_format is ${rows[0]!.format}; Debezium needs each changed row: set binlog_format = ROW`);
    // root may do anything: no grant is named.
    expect(result.stderr).not.toContain('GRANT');
  });

  it('a user without the replication grants: the GRANT statement it names makes the database ready', async () => {
    const url = new URL(server.url());
    const root = await connectKnex(server.url());
    const user = `app${randomUUID().slice(0, 6)}`;
    try {
      await root.raw(`create user '${user}'@'%'`);
      await root.raw(`grant all privileges on \`${url.pathname.slice(1)}\`.* to '${user}'@'%'`);
      url.username = user;
      const result = await start(url.toString());
      expect(result.code, result.stderr).toBe(4);
      expect(result.stderr).toContain(`the user ${user}@% lacks REPLICATION SLAVE, REPLICATION CLIENT (BINLOG MONITOR), RELOAD, SHOW DATABASES on *.*`);
      expect(result.stderr).not.toContain('log_bin');
      const grant = /GRANT [^;]+;/.exec(result.stderr)?.[0];
      expect(grant).toBe(`GRANT SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '${user}'@'%';`);
      await root.raw(grant!);
      const asUser = await connectKnex(url.toString());
      try {
        await expect(checkCaptureReady(asUser, 'mariadb', url.toString())).resolves.toBeUndefined();
      } finally {
        await asUser.destroy();
      }
    } finally {
      await root.raw(`drop user if exists '${user}'@'%'`);
      await root.destroy();
    }
  });

  it('a statement binlog with minimal row images (SET GLOBAL on the test\'s own server, then put back)', async () => {
    const root = await connectKnex(server.url());
    try {
      await root.raw("set global binlog_format = 'STATEMENT'");
      await root.raw("set global binlog_row_image = 'MINIMAL'");
      const result = await start(server.url());
      expect(result.code, result.stderr).toBe(4);
      expect(result.stderr).toContain("binlog_format is STATEMENT; Debezium needs each changed row: set binlog_format = ROW in the server config (or SET GLOBAL binlog_format = 'ROW';)");
      expect(result.stderr).toContain("binlog_row_image is MINIMAL; Debezium needs whole rows: set binlog_row_image = FULL in the server config (or SET GLOBAL binlog_row_image = 'FULL';)");
      expect(result.stderr).not.toContain('log_bin is');
    } finally {
      await root.raw("set global binlog_format = 'ROW'");
      await root.raw("set global binlog_row_image = 'FULL'");
      await root.destroy();
    }
  });
});
