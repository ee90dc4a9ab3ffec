/**
 * A MariaDB server of a test's own with a row binlog (log_bin, binlog_format=ROW, binlog_row_image=FULL,
 * a server_id), which Debezium's MariaDB connector needs and the machine's shared server on 3306 does
 * not have — and must not be changed for. `mariadb-install-db` into a temporary datadir, then `mariadbd`
 * with --no-defaults (never the shared server's /etc/mysql config: its datadir, socket and port), on a
 * free port of 127.0.0.1 with its socket in its own folder. As root it runs as root (--user=root: the
 * datadir is ours, and mariadbd accepts it when told). stop() kills it and removes the folder: nothing
 * in it is worth a clean shutdown.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { UnavailableError } from '../../src/errors.ts';
import { freePorts } from '../../streaming/broker/local-kafka.ts';

export interface ThrowawayMariadb {
  port: number;
  /** mysql://root@127.0.0.1:<port>/<database> (root without a password, like the shared server). */
  url: string;
  /** The database created in it for the test. */
  database: string;
  dir: string;
  pid: number;
  stop(): Promise<void>;
}

const INSTALL_DB = '/usr/bin/mariadb-install-db';
const MARIADBD = '/usr/sbin/mariadbd';

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`${command} ${args.join(' ')} exited ${code}:\n${text}`))));
  });
}

/**
 * Starts the server. `settings` are extra mariadbd options (`{ 'binlog-format': 'MIXED' }`); a null
 * value leaves a default one out (`{ 'log-bin': null }`: a server without a binlog).
 */
export async function startThrowawayMariadb({ database = 'legacy', settings = {} }: { database?: string; settings?: Record<string, string | null> } = {}): Promise<ThrowawayMariadb> {
  for (const binary of [INSTALL_DB, MARIADBD]) {
    if (!existsSync(binary)) throw new UnavailableError('mariadb', `no ${binary}`, { hint: 'install the MariaDB server (apt-get install mariadb-server); .ci/run does' });
  }
  const root = userInfo().uid === 0;
  const dir = await mkdtemp(join(tmpdir(), 'dualrun-mariadb-'));
  const data = join(dir, 'data');
  const [port] = await freePorts(1);
  const options: Record<string, string | null> = {
    datadir: data,
    port: String(port),
    'bind-address': '127.0.0.1',
    socket: join(dir, 'mysqld.sock'),
    'pid-file': join(dir, 'mysqld.pid'),
    'log-error': join(dir, 'error.log'),
    tmpdir: dir,
    // What Debezium reads: every changed row, whole, in a binlog of a server with an id.
    'log-bin': join(dir, 'binlog'),
    'binlog-format': 'ROW',
    'binlog-row-image': 'FULL',
    'server-id': '1',
    'skip-name-resolve': '',
    // As the shared server is configured (/etc/mysql/my.cnf): a name like Åsa Öberg or an emoji fits.
    'character-set-server': 'utf8mb4',
    'collation-server': 'utf8mb4_general_ci',
    // A throwaway on a shared 2-core machine: small, and no durability to pay for.
    'innodb-buffer-pool-size': '64M',
    'innodb-log-file-size': '16M',
    'innodb-flush-log-at-trx-commit': '0',
    'innodb-doublewrite': '0',
    'sync-binlog': '0',
    'performance-schema': 'OFF',
    ...(root ? { user: 'root' } : {}),
    ...settings,
  };
  const args = ['--no-defaults', ...Object.entries(options).filter(([, value]) => value !== null).map(([key, value]) => (value === '' ? `--${key}` : `--${key}=${value}`))];
  let child: ChildProcess | undefined;
  try {
    await run(INSTALL_DB, ['--no-defaults', `--datadir=${data}`, ...(root ? ['--user=root'] : []), '--auth-root-authentication-method=normal', '--skip-test-db', '--skip-name-resolve']);
    child = spawn(MARIADBD, args, { stdio: 'ignore' });
    await waitReady(child, port!, dir);
    const admin = await mysql.createConnection({ host: '127.0.0.1', port: port!, user: 'root' });
    await admin.query(`create database \`${database}\``);
    await admin.end();
  } catch (error) {
    child?.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const server = child;
  return {
    port: port!,
    url: `mysql://root@127.0.0.1:${port}/${database}`,
    database,
    dir,
    pid: server.pid!,
    stop: async () => {
      if (server.exitCode === null && server.signalCode === null) {
        const exited = new Promise((resolve) => server.once('exit', resolve));
        server.kill('SIGKILL');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Until the server takes a connection on its port; its error log if it exits or never does. */
async function waitReady(child: ChildProcess, port: number, dir: string, timeoutMs = 60_000): Promise<void> {
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited !== undefined) break;
    try {
      const connection = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root', connectTimeout: 1000 });
      await connection.end();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  const log = await readFile(join(dir, 'error.log'), 'utf8').catch(() => '(no error log)');
  throw new Error(`mariadbd ${exited !== undefined ? `exited with code ${exited}` : `took no connection on port ${port} within ${timeoutMs / 1000} s`}; its error log:\n${log.split('\n').slice(-25).join('\n')}`);
}
