/**
 * The state file that remembers the background local broker (`dualrun kafka start`, `demo --keep-broker`),
 * so a later command in another process — `kafka stop`, `kafka status`, the demo — finds it.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isAlive, type LocalKafkaInfo } from './local-kafka.ts';

export function statePath(cacheDir: string): string {
  return join(cacheDir, 'local-kafka', 'state.json');
}

export async function readState(cacheDir: string): Promise<LocalKafkaInfo | undefined> {
  const path = statePath(cacheDir);
  if (!existsSync(path)) return undefined;
  return JSON.parse(await readFile(path, 'utf8')) as LocalKafkaInfo;
}

/** The recorded broker if its process still lives; a stale state file is removed. */
export async function readRunning(cacheDir: string): Promise<LocalKafkaInfo | undefined> {
  const state = await readState(cacheDir);
  if (state && isAlive(state.pid)) return state;
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
