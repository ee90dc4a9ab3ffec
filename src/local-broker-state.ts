/**
 * The state file that remembers the background local broker (`dualrun kafka start`, `demo --keep-broker`),
 * so a later command in another process — `kafka stop`, `kafka status`, replay, the streaming job, the
 * demo — finds it. Lives in src/ because every command may fall back to that broker.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** What `dualrun kafka start` records about the broker it started. */
export interface LocalKafkaInfo {
  /** Bootstrap address, "host:port". */
  brokers: string;
  pid: number;
  dataDir: string;
  logPath: string;
  startedAt: string;
  jars: string;
  /** The SASL/PLAIN listener, when the broker was started with one. */
  saslBrokers?: string;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function statePath(cacheDir: string): string {
  return join(cacheDir, 'local-kafka', 'state.json');
}

export async function readState(cacheDir: string): Promise<LocalKafkaInfo | undefined> {
  const path = statePath(cacheDir);
  if (!existsSync(path)) return undefined;
  return JSON.parse(await readFile(path, 'utf8')) as LocalKafkaInfo;
}

/**
 * Whether `pid` is still the broker recorded in `info`: alive, and (where /proc exists) running
 * kafka.Kafka on the recorded data folder — after a reboot the pid may belong to anything else.
 */
export function isRecordedBroker(info: LocalKafkaInfo): boolean {
  if (!isAlive(info.pid)) return false;
  try {
    const cmdline = readFileSync(`/proc/${info.pid}/cmdline`, 'utf8');
    return cmdline.includes('kafka.Kafka') && cmdline.includes(info.dataDir);
  } catch {
    return process.platform !== 'linux';
  }
}

/**
 * The recorded broker if its process still lives. A record of one that died is left for `kafka stop`
 * (or the next start) to clear together with its data folder: clearing it here forgot that folder.
 */
export async function readRunning(cacheDir: string): Promise<LocalKafkaInfo | undefined> {
  const state = await readState(cacheDir);
  return state && isRecordedBroker(state) ? state : undefined;
}

/** The recorded broker if its process is gone (killed, crashed, the machine restarted). */
export async function readDead(cacheDir: string): Promise<LocalKafkaInfo | undefined> {
  const state = await readState(cacheDir);
  return state && !isRecordedBroker(state) ? state : undefined;
}

/** Clears the record of a broker and, unless kept, its data folder (only one of ours: a dualrun-kafka-* temp folder). */
export async function forgetBroker(cacheDir: string, info: LocalKafkaInfo, { keepData = false } = {}): Promise<void> {
  if (!keepData && basename(info.dataDir).startsWith('dualrun-kafka-')) await rm(info.dataDir, { recursive: true, force: true });
  await clearState(cacheDir);
}

export async function writeState(cacheDir: string, info: LocalKafkaInfo): Promise<void> {
  const path = statePath(cacheDir);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, JSON.stringify(info, null, 2));
}

export async function clearState(cacheDir: string): Promise<void> {
  await rm(statePath(cacheDir), { force: true });
}

/**
 * Runs `start` holding the cache folder's start lock (a file created exclusively, holding our pid), so
 * two `dualrun kafka start` at once never start two brokers: the second waits for the first and then
 * finds its broker in the state file. A lock whose process died is taken over.
 */
export async function withStartLock<T>(cacheDir: string, start: () => Promise<T>, timeoutMs = 180_000): Promise<T> {
  const path = join(cacheDir, 'local-kafka', 'start.lock');
  await mkdir(dirname(path), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(await readFile(path, 'utf8').catch(() => ''));
      if (holder > 0 && !isAlive(holder)) {
        await rm(path, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`another dualrun kafka start (pid ${holder || 'unknown'}) has held ${path} for ${timeoutMs / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  try {
    return await start();
  } finally {
    await rm(path, { force: true });
  }
}
