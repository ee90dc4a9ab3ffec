// `dualrun demo --source cdc` stopped while its Kafka Connect worker and its own PostgreSQL cluster run
// (both in process groups of their own, so nothing ends them with the demo): SIGTERM, and the demo stops
// both itself before it exits; SIGKILL, which no handler sees, leaves both running — and the next
// `dualrun cdc stop` finds the killed run's record and stops them. Real processes, found by pid. The runs
// use a cache folder of the test's own (the jars linked from the real one), so no other test file's dual
// run, which also stops what killed runs left, gets to this one's first.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteRunTopics } from '../../src/cli/run-topics.ts';
import type { RunRecord } from '../../src/cli/run-leftovers.ts';
import { readEnvConfig } from '../../src/config.ts';
import { runCli } from '../support/cli.ts';
import { brokers } from '../support/kafka.ts';

const bin = fileURLToPath(new URL('../../bin/dualrun.js', import.meta.url));
let dir: string;
let cacheDir: string;
const env = (): NodeJS.ProcessEnv => ({ ...process.env, KAFKA_BROKERS: brokers().join(','), CONNECT_URL: '', DATABASE_URL: '', DUALRUN_CACHE_DIR: cacheDir });
const prefixes: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dualrun-cdc-killed-'));
  cacheDir = join(dir, 'cache');
  await mkdir(cacheDir);
  // The jars (Connect, Debezium) from the real cache; none of its records of running things.
  const real = readEnvConfig().cacheDir;
  for (const name of await readdir(real)) if (!['local-kafka', 'local-connect', 'dual-runs'].includes(name)) await symlink(join(real, name), join(cacheDir, name));
});

afterAll(async () => {
  // A killed demo leaves its topics too (the broker outlives it): this test's own, removed here.
  for (const prefix of prefixes) await deleteRunTopics(brokers(), prefix, `${prefix}-stream`);
  await rm(dir, { recursive: true, force: true });
});

/** Alive and not a zombie (an orphan's exit is reaped by init, which may take a moment). */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

interface Demo {
  pid: number;
  record: RunRecord;
  worker: number;
  postmaster: number;
  exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): void;
  stderr(): string;
}

/** Starts the demo and waits until its capture runs: its worker and its cluster are up, and recorded. */
async function startDemo(name: string): Promise<Demo> {
  const child = spawn(process.execPath, [bin, 'demo', '--scenario', 'baseline', '--source', 'cdc', '--out', join(dir, name)], { env: env(), stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal === 'SIGKILL' ? 137 : null))));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the capture never started:\n${stderr}`)), 240_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const prefix = /topics: (dualrun-[0-9a-z]+)\.\*/.exec(stderr)?.[1];
      if (prefix && !prefixes.includes(prefix)) prefixes.push(prefix);
      if (stderr.includes('cdc: capturing')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((code) => reject(new Error(`the demo exited ${code} before its capture ran:\n${stderr}`)));
  });
  const record = JSON.parse(await readFile(join(cacheDir, 'dual-runs', `${child.pid}.json`), 'utf8')) as RunRecord;
  expect(record.postgres, 'the run records its PostgreSQL cluster').toBeDefined();
  expect(record.capture?.worker, 'the run records its Connect worker').toBeDefined();
  const postmaster = Number(readFileSync(join(record.postgres!, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
  const worker = record.capture!.worker!.pid;
  expect(running(worker), 'the Connect worker runs').toBe(true);
  expect(running(postmaster), 'the PostgreSQL cluster runs').toBe(true);
  return { pid: child.pid!, record, worker, postmaster, exited, kill: (signal) => child.kill(signal), stderr: () => stderr };
}

/** Nothing of the run is left: no worker, no cluster, no folders, no record. */
async function expectNothingLeft(demo: Demo): Promise<void> {
  // A process just stopped by its parent may take a moment to be reaped.
  const deadline = Date.now() + 10_000;
  while ((running(demo.worker) || running(demo.postmaster)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
  expect(running(demo.worker), `Connect worker ${demo.worker}`).toBe(false);
  expect(running(demo.postmaster), `PostgreSQL ${demo.postmaster}`).toBe(false);
  expect(existsSync(demo.record.postgres!), demo.record.postgres).toBe(false);
  expect(existsSync(demo.record.capture!.worker!.dataDir), demo.record.capture!.worker!.dataDir).toBe(false);
  expect(existsSync(join(cacheDir, 'dual-runs', `${demo.pid}.json`)), 'the run record').toBe(false);
}

describe('dualrun demo --source cdc, stopped while its capture runs', { timeout: 360_000 }, () => {
  it('SIGTERM: exit 143, and the demo itself stopped its Connect worker and its PostgreSQL cluster', async () => {
    const demo = await startDemo('term');
    demo.kill('SIGTERM');
    expect(await demo.exited, demo.stderr()).toBe(143);
    await expectNothingLeft(demo);
  });

  it('SIGKILL leaves both running; the next dualrun cdc stop finds the killed run and stops them', async () => {
    const demo = await startDemo('kill');
    demo.kill('SIGKILL');
    expect(await demo.exited).toBe(137);
    // The leak this guards against: nothing ended them with the demo.
    expect(running(demo.worker) && running(demo.postmaster)).toBe(true);
    const stop = await runCli(['cdc', 'stop', '--topic-prefix', `none-${demo.pid}`], { KAFKA_BROKERS: brokers().join(','), CONNECT_URL: '', DUALRUN_CACHE_DIR: cacheDir });
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stderr).toContain(`the dual run ${demo.pid} (started ${demo.record.startedAt}) was killed; stopped what it left running: Kafka Connect worker ${demo.worker}, PostgreSQL cluster ${demo.record.postgres}`);
    await expectNothingLeft(demo);
  });
});
