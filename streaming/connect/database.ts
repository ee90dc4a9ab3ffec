/**
 * The legacy database's side of change data capture. Whether it can feed Debezium: PostgreSQL needs logical decoding (wal_level=logical,
 * replication slots and WAL senders) and a role allowed to replicate; MariaDB needs a row-based binlog
 * with full row images and the replication grants. Every missing setting is named with the statement
 * or option that fixes it: dualrun reads these settings and never changes them (they need a restart, and
 * the server is the team's). How far behind the connector is (the WAL or binlog not yet confirmed), and
 * dropping a PostgreSQL replication slot when capture stops (a slot left behind keeps WAL forever).
 */
import type { Knex } from 'knex';
import { redactUrl } from '../../src/config.ts';
import { UnavailableError } from '../../src/errors.ts';

export async function checkCaptureReady(db: Knex, kind: 'postgres' | 'mariadb', databaseUrl: string): Promise<void> {
  const problems = kind === 'postgres' ? await postgresProblems(db) : await mariadbProblems(db);
  if (problems.length === 0) return;
  throw new UnavailableError(
    `database ${redactUrl(databaseUrl)}`,
    `cannot capture changes with Debezium:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`,
    { hint: kind === 'postgres' ? 'change the settings above and restart PostgreSQL (or run a cluster of its own for the migration), then run dualrun cdc start again' : 'change the settings above (in the server config, then restart mariadbd), then run dualrun cdc start again' },
  );
}

async function setting(db: Knex, name: string): Promise<string> {
  const result = (await db.raw(`select current_setting(?) as value`, [name])) as { rows: { value: string }[] };
  return result.rows[0]?.value ?? '';
}

async function postgresProblems(db: Knex): Promise<string[]> {
  const problems: string[] = [];
  const walLevel = await setting(db, 'wal_level');
  if (walLevel !== 'logical') {
    problems.push(`wal_level is ${walLevel}; Debezium reads the WAL through logical decoding, which needs wal_level = logical: run ALTER SYSTEM SET wal_level = logical; as a superuser (or set it in postgresql.conf) and restart the server`);
  }
  for (const name of ['max_replication_slots', 'max_wal_senders']) {
    const value = Number(await setting(db, name));
    if (!(value >= 1)) problems.push(`${name} is ${value}; the connector needs one: ALTER SYSTEM SET ${name} = 4; and restart the server`);
  }
  const role = (await db.raw('select current_user as name, rolsuper, rolreplication from pg_roles where rolname = current_user')) as { rows: { name: string; rolsuper: boolean; rolreplication: boolean }[] };
  const me = role.rows[0];
  if (me && !me.rolsuper && !me.rolreplication) {
    problems.push(`role ${me.name} may not replicate: ALTER ROLE ${me.name} WITH REPLICATION; (as a superuser), and let it own the legacy tables or create the publication for it`);
  }
  return problems;
}

async function mariadbProblems(db: Knex): Promise<string[]> {
  const problems: string[] = [];
  const [rows] = (await db.raw('select @@log_bin as logBin, @@binlog_format as format, @@binlog_row_image as image, @@server_id as serverId')) as [{ logBin: number | string; format: string; image: string; serverId: number | string }[]];
  const settings = rows[0]!;
  if (Number(settings.logBin) !== 1) problems.push('log_bin is OFF; Debezium reads the binary log: start mariadbd with log_bin (log-bin in the [mariadbd] section of its config; it cannot be set at run time) and restart it');
  if (String(settings.format).toUpperCase() !== 'ROW') problems.push(`binlog_format is ${settings.format}; Debezium needs each changed row: set binlog_format = ROW in the server config (or SET GLOBAL binlog_format = 'ROW';)`);
  if (String(settings.image).toUpperCase() !== 'FULL') problems.push(`binlog_row_image is ${settings.image}; Debezium needs whole rows: set binlog_row_image = FULL in the server config (or SET GLOBAL binlog_row_image = 'FULL';)`);
  if (Number(settings.serverId) === 0) problems.push('server_id is 0; a server that writes a binlog needs an id: set server_id = 1 in the server config');
  const missing = await missingGrants(db);
  if (missing.length > 0) {
    const [who] = (await db.raw('select current_user() as user')) as [{ user: string }[]];
    const [user, host] = String(who[0]?.user ?? '<user>@<host>').split('@');
    problems.push(
      `the user ${user}@${host} lacks ${missing.join(', ')} on *.* (Debezium reads the binlog as a replica, asks the server where it is, and locks the tables for the snapshot): GRANT SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '${user}'@'${host}'; (as an admin)`,
    );
  }
  return problems;
}

/**
 * The global privileges Debezium's MariaDB connector needs that the user's grants do not give.
 * MariaDB 10.5+ shows REPLICATION CLIENT as BINLOG MONITOR (and REPLICATION SLAVE as REPLICA on MySQL 8).
 */
async function missingGrants(db: Knex): Promise<string[]> {
  const [grants] = (await db.raw('show grants')) as [Record<string, string>[]];
  const global = grants
    .map((row) => (Object.values(row)[0] ?? '').toUpperCase())
    .filter((line) => / ON \*\.\* TO /.test(line))
    .map((line) => line.replace(/^GRANT /, '').replace(/ ON \*\.\* TO .*$/, ''))
    .join(', ');
  if (global.includes('ALL PRIVILEGES')) return [];
  const needed: [string, RegExp][] = [
    ['REPLICATION SLAVE', /REPLICATION (SLAVE|REPLICA)\b/],
    ['REPLICATION CLIENT (BINLOG MONITOR)', /REPLICATION CLIENT|BINLOG MONITOR|\bSUPER\b/],
    ['RELOAD', /\bRELOAD\b/],
    ['SHOW DATABASES', /SHOW DATABASES/],
  ];
  return needed.filter(([, pattern]) => !pattern.test(global)).map(([name]) => name);
}

/** Bytes of log the connector has not confirmed yet (PostgreSQL: WAL behind the slot; MariaDB: binlog behind its offset). */
export async function captureLag(db: Knex, kind: 'postgres' | 'mariadb', slot: string | undefined, offset: Record<string, unknown> | undefined): Promise<number | undefined> {
  if (kind === 'postgres') {
    const result = (await db.raw('select pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::text as lag from pg_replication_slots where slot_name = ?', [slot ?? ''])) as { rows: { lag: string | null }[] };
    const lag = result.rows[0]?.lag;
    return lag === undefined || lag === null ? undefined : Number(lag);
  }
  const [rows] = (await db.raw('show master status')) as [{ File: string; Position: number | string }[]];
  const head = rows[0];
  if (!head || !offset || offset.file !== head.File) return undefined;
  return Math.max(0, Number(head.Position) - Number(offset.pos ?? 0));
}

/** Drops the connector's replication slot and publication (PostgreSQL), ending a walsender still holding it. */
export async function dropSlot(db: Knex, slot: string, publication: string | undefined): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    await db.raw('select pg_terminate_backend(active_pid) from pg_replication_slots where slot_name = ? and active_pid is not null', [slot]);
    try {
      await db.raw('select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = ?', [slot]);
      break;
    } catch (error) {
      // "is active for PID …": the walsender was just ended and has not let go yet.
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  if (publication) await db.raw(`drop publication if exists ${publication}`);
}
