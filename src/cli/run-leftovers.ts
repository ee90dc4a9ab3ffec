/**
 * What a dual run (`dualrun demo`, `check --scenario`) started in the background — its own PostgreSQL
 * cluster, its Kafka Connect worker and connector, its local broker — recorded under the cache folder
 * with the run's pid as each one starts. Those run in process groups of their own, so nothing ends them
 * with the run: a run that ends, fails or is interrupted (SIGINT, SIGTERM) stops them itself and removes
 * its record; a run killed with SIGKILL cannot, so the next `dualrun demo`, `check --scenario`,
 * `cdc start` or `cdc stop` finds records whose run is gone and stops what they name.
 *
 * Reaches the streaming side's managers only through dynamic imports (DESIGN.md section 3).
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { messageOf } from '../errors.ts';
import { isAlive } from '../local-broker-state.ts';
import type { Logger } from '../logger.ts';
import type { CdcState } from '../../streaming/connect/state.ts';

export interface RunRecord {
  /** The dual run's process. */
  pid: number;
  startedAt: string;
  /** The folder of its throwaway PostgreSQL cluster (wal_level=logical). */
  postgres?: string;
  /** Its capture: the local worker (or CONNECT_URL's connector) and the replication slot. */
  capture?: CdcState;
  /** The local broker it started and meant to stop. */
  broker?: { pid: number; dataDir: string };
}

const folder = (cacheDir: string): string => join(cacheDir, 'dual-runs');
const pathOf = (cacheDir: string, pid: number): string => join(folder(cacheDir), `${pid}.json`);

/** The record of this process's run, rewritten as each part starts. */
export class RunLeftovers {
  private readonly record: RunRecord = { pid: process.pid, startedAt: new Date().toISOString() };

  constructor(private readonly cacheDir: string) {}

  async add(part: Partial<Omit<RunRecord, 'pid' | 'startedAt'>>): Promise<void> {
    Object.assign(this.record, part);
    await mkdir(folder(this.cacheDir), { recursive: true });
    await writeFile(pathOf(this.cacheDir, this.record.pid), JSON.stringify(this.record, null, 2));
  }

  /** Everything it names is stopped: forget it. */
  async clear(): Promise<void> {
    await rm(pathOf(this.cacheDir, this.record.pid), { force: true });
  }
}

/** Whether `pid` is still a dualrun command (after a reboot, or once reused, it may be anyone's). */
function runStillAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  if (!isAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('dualrun');
  } catch {
    return process.platform !== 'linux';
  }
}

/**
 * Stops what the records of killed runs name — the capture first (its slot lives in the database),
 * then the database cluster, then the broker — and removes those records. Says what it stopped.
 */
export async function stopLeftovers(cacheDir: string, logger: Logger): Promise<string[]> {
  const dir = folder(cacheDir);
  if (!existsSync(dir)) return [];
  const stopped: string[] = [];
  for (const name of await readdir(dir)) {
    if (!name.endsWith('.json')) continue;
    let record: RunRecord;
    try {
      record = JSON.parse(await readFile(join(dir, name), 'utf8')) as RunRecord;
    } catch {
      continue; // being written by a run that is starting
    }
    if (runStillAlive(record.pid)) continue;
    const what: string[] = [];
    const attempt = async (label: string, stop: () => Promise<void>): Promise<void> => {
      try {
        await stop();
        what.push(label);
      } catch (error) {
        logger.warn({ error: messageOf(error) }, `could not stop ${label} of the dual run ${record.pid}`);
      }
    };
    if (record.capture) {
      const capture = record.capture;
      const { stopCapture } = await import('../../streaming/connect/capture.ts');
      // The slot is dropped only where it outlives the run: the run's own cluster goes entirely.
      await attempt(capture.worker ? `Kafka Connect worker ${capture.worker.pid}` : `connector ${capture.connector.name}`, () => stopCapture(capture, { keepSlot: record.postgres !== undefined, logger }));
    }
    if (record.postgres) {
      const cluster = record.postgres;
      const { stopThrowawayPostgres } = await import('../../streaming/connect/throwaway-postgres.ts');
      await attempt(`PostgreSQL cluster ${cluster}`, () => stopThrowawayPostgres(cluster));
    }
    if (record.broker) {
      const broker = record.broker;
      const { stopProcess } = await import('../../streaming/broker/local-kafka.ts');
      await attempt(`Kafka broker ${broker.pid}`, async () => {
        if (brokerAlive(broker)) await stopProcess(broker.pid);
        if (broker.dataDir.includes('dualrun-kafka-')) await rm(broker.dataDir, { recursive: true, force: true });
      });
    }
    await rm(join(dir, name), { force: true });
    stopped.push(`the dual run ${record.pid} (started ${record.startedAt}) was killed; stopped what it left running: ${what.join(', ') || 'nothing was still running'}`);
  }
  return stopped;
}

function brokerAlive(broker: { pid: number; dataDir: string }): boolean {
  try {
    const cmdline = readFileSync(`/proc/${broker.pid}/cmdline`, 'utf8');
    return cmdline.includes('kafka.Kafka') && cmdline.includes(broker.dataDir);
  } catch {
    return process.platform !== 'linux' && isAlive(broker.pid);
  }
}
