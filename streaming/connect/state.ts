/**
 * What `dualrun cdc start` left running, remembered per topic prefix under the cache folder so a later
 * `cdc status` or `cdc stop` (another process) finds it: the local Connect worker (or the existing
 * cluster CONNECT_URL named), the connector and what it reads.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isAlive } from '../../src/local-broker-state.ts';
import type { LocalConnectInfo } from './local-connect.ts';
import type { ConnectorPlan } from './connector.ts';

export interface CdcState {
  topicPrefix: string;
  /** The Connect REST API the connector is registered with. */
  restUrl: string;
  /** The worker dualrun started; absent when CONNECT_URL named an existing cluster. */
  worker?: LocalConnectInfo;
  connector: Omit<ConnectorPlan, 'config'>;
  /** The legacy database (as given: it may hold a password, like the config file it came from). */
  databaseUrl: string;
  brokers: string[];
  startedAt: string;
}

export function cdcStatePath(cacheDir: string, topicPrefix: string): string {
  return join(cacheDir, 'local-connect', `${topicPrefix}.json`);
}

export async function readCdcState(cacheDir: string, topicPrefix: string): Promise<CdcState | undefined> {
  const path = cdcStatePath(cacheDir, topicPrefix);
  if (!existsSync(path)) return undefined;
  return JSON.parse(await readFile(path, 'utf8')) as CdcState;
}

export async function writeCdcState(cacheDir: string, state: CdcState): Promise<void> {
  const path = cdcStatePath(cacheDir, state.topicPrefix);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, JSON.stringify(state, null, 2));
}

export async function clearCdcState(cacheDir: string, topicPrefix: string): Promise<void> {
  await rm(cdcStatePath(cacheDir, topicPrefix), { force: true });
}

/** Whether the recorded worker still runs (and is ours: after a reboot its pid may be anyone's). */
export function workerAlive(worker: LocalConnectInfo): boolean {
  if (!isAlive(worker.pid)) return false;
  try {
    const cmdline = readFileSync(`/proc/${worker.pid}/cmdline`, 'utf8');
    return cmdline.includes('ConnectStandalone') && cmdline.includes(worker.dataDir);
  } catch {
    return process.platform !== 'linux';
  }
}
