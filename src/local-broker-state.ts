/**
 * The state file that remembers the background local broker (`dualrun kafka start`, `demo --keep-broker`),
 * so a later command in another process — `kafka stop`, `kafka status`, replay, the streaming job, the
 * demo — finds it. Lives in src/ because every command may fall back to that broker.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

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

/** The recorded broker if its process still lives; a stale state file is removed. */
export async function readRunning(cacheDir: string): Promise<LocalKafkaInfo | undefined> {
  const state = await readState(cacheDir);
  if (state && isRecordedBroker(state)) return state;
  if (state) await clearState(cacheDir);
  return undefined;
}

export async function writeState(cacheDir: string, info: LocalKafkaInfo): Promise<void> {
  const path = statePath(cacheDir);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, JSON.stringify(info, null, 2));
}

export async function clearState(cacheDir: string): Promise<void> {
  await rm(statePath(cacheDir), { force: true });
}
