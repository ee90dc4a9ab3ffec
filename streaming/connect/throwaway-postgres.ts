/**
 * A PostgreSQL cluster of its own (for a test, or `dualrun demo --source cdc` without --db) with logical replication on (wal_level=logical), which Debezium
 * needs and the machine's shared server (wal_level=replica) does not have — and must not be changed for.
 * Debian's initdb and pg_ctl from /usr/lib/postgresql/<version>/bin, run as the postgres user when we are
 * root (PostgreSQL refuses to run as root), on a free port, with its socket in its own folder, removed
 * by stop() (or by stopThrowawayPostgres from another process).
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { basename, join } from 'node:path';
import { UnavailableError } from '../../src/errors.ts';

export interface ThrowawayPostgres {
  port: number;
  /** postgres://postgres@127.0.0.1:<port>/postgres (trust authentication). */
  url: string;
  dir: string;
  stop(): Promise<void>;
}

/** The newest PostgreSQL server binaries Debian installed. */
function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((name) => existsSync(join(root, name, 'bin', 'initdb'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new UnavailableError('postgresql', `no PostgreSQL server binaries under ${root}/<version>/bin`, { hint: 'install them (apt-get install postgresql), or pass --db a PostgreSQL with wal_level=logical' });
  return join(root, newest, 'bin');
}

/** The uid/gid to run PostgreSQL as: the postgres user when we are root, else ourselves. */
async function runAs(): Promise<{ uid: number; gid: number } | undefined> {
  if (userInfo().uid !== 0) return undefined;
  const output = await capture('id', ['-u', 'postgres']).then(async (uid) => ({ uid, gid: await capture('id', ['-g', 'postgres']) }));
  return { uid: Number(output.uid), gid: Number(output.gid) };
}

function capture(command: string, args: string[], user?: { uid: number; gid: number }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(user ?? {}) });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(text.trim()) : reject(new Error(`${command} ${args.join(' ')} exited ${code}:\n${text}`))));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export async function startThrowawayPostgres(settings: Record<string, string> = {}): Promise<ThrowawayPostgres> {
  const bin = postgresBin();
  const user = await runAs();
  const dir = await mkdtemp(join(tmpdir(), 'dualrun-pg-'));
  if (user) await chown(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  const port = await freePort();
  const options = {
    wal_level: 'logical',
    max_wal_senders: '4',
    max_replication_slots: '4',
    listen_addresses: '127.0.0.1',
    port: String(port),
    unix_socket_directories: dir,
    // A throwaway cluster: nothing to lose on a crash, so don't pay for durability.
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    ...settings,
  };
  const serverOptions = Object.entries(options).map(([key, value]) => `-c ${key}=${value}`).join(' ');
  try {
    await capture(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-instructions'], user);
    await capture(join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'server.log'), '-o', serverOptions, '-w', '-t', '60', 'start'], user);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return { port, url: `postgres://postgres@127.0.0.1:${port}/postgres`, dir, stop: () => stopThrowawayPostgres(dir) };
}

/**
 * Stops the cluster in `dir` (one startThrowawayPostgres made) and removes the folder; also from another
 * process than the one that started it (a run killed with SIGKILL left it behind).
 */
export async function stopThrowawayPostgres(dir: string): Promise<void> {
  if (!basename(dir).startsWith('dualrun-pg-')) throw new Error(`${dir} is not a throwaway PostgreSQL cluster's folder`);
  if (existsSync(join(dir, 'data', 'postmaster.pid'))) {
    // Immediate: nothing in it is worth a checkpoint.
    await capture(join(postgresBin(), 'pg_ctl'), ['-D', join(dir, 'data'), '-m', 'immediate', '-w', 'stop'], await runAs()).catch(() => undefined);
  }
  await rm(dir, { recursive: true, force: true });
}
