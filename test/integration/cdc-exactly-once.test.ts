// Exactly-once through change data capture: while the legacy application (the replay, into a PostgreSQL
// cluster of the test's own) writes a generated shop scenario, Kafka Connect and the streaming job
// (`stream run --source cdc`) are both killed with SIGKILL; `dualrun cdc start` starts Connect again on
// its offsets (Debezium resends from its last flushed offset: at-least-once) and the job is started
// again. The outputs must equal those of the job fed, uninterrupted, with dualrun's own events.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEnvConfig } from '../../src/config.ts';
import { fetchTopicOffsets } from '../../src/kafka-client.ts';
import { isAlive } from '../../src/local-broker-state.ts';
import { cdcStatePath } from '../../streaming/connect/state.ts';
import { runCli, type CliResult } from '../support/cli.ts';
import { brokers, kafkaClient } from '../support/kafka.ts';
import { finalValues } from '../support/stream.ts';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../support/throwaway-postgres.ts';

const bin = fileURLToPath(new URL('../../bin/dualrun.js', import.meta.url));
const id = randomUUID().slice(0, 8);
const cdcPrefix = `cdck${id}`;
const eventPrefix = `evk${id}`;
let pg: ThrowawayPostgres;
let dir: string;
const children: ChildProcess[] = [];
const env = (): NodeJS.ProcessEnv => ({ ...process.env, KAFKA_BROKERS: brokers().join(','), DUALRUN_LOG_LEVEL: 'silent', CONNECT_URL: '' });

function ok(result: CliResult, what: string): CliResult {
  expect(result.code, `${what}:\n${result.stderr}\n${result.stdout}`).toBe(0);
  return result;
}

function background(args: string[]): { child: ChildProcess; exited: Promise<number> } {
  const child = spawn(process.execPath, [bin, ...args], { env: env(), stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? -1 : 1))));
  void exited.then((code) => {
    if (code > 0) console.error(`dualrun ${args.join(' ')} exited ${code}:\n${stderr}`);
  });
  return { child, exited };
}

async function changesCaptured(topic: string): Promise<number> {
  const admin = kafkaClient('dualrun-test-admin').admin();
  await admin.connect();
  try {
    return (await fetchTopicOffsets(admin, topic)).reduce((sum, partition) => sum + Number(partition.high), 0);
  } finally {
    await admin.disconnect();
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dualrun-cdc-kill-'));
  pg = await startThrowawayPostgres();
  ok(await runCli(['generate', '--out', join(dir, 'scenario'), '--seed', 'kill-9', '--orders', '300', '--customers', '30', '--days', '3'], env()), 'generate');
  ok(await runCli(['cdc', 'start', '--db', pg.url, '--topic-prefix', cdcPrefix, '--partitions', '3', '--create-schema'], env(), 240_000), 'cdc start');
}, 300_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await runCli(['cdc', 'stop', '--topic-prefix', cdcPrefix], env());
  await pg?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('exactly-once through CDC', { timeout: 400_000 }, () => {
  it('kill -9 of Kafka Connect and of the streaming job during a replay, both restarted: the uninterrupted outputs', async () => {
    const scenario = join(dir, 'scenario');
    // Paced, so that the kill comes mid-replay however fast the machine writes (unpaced, CI's replay
    // was over before Connect had sent the 60th order).
    const replay = background(['replay', '--scenario', scenario, '--db', pg.url, '--no-kafka', '--batch-size', '1', '--rate', '50']);
    const job = background(['stream', 'run', '--source', 'cdc', '--topic-prefix', cdcPrefix, '--group', `${cdcPrefix}-g`, '--from-beginning', '--partitions', '3']);

    // Mid-replay: some orders captured, the replay still writing.
    const deadline = Date.now() + 120_000;
    while ((await changesCaptured(`${cdcPrefix}.cdc.orders`)) < 60 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    expect(replay.child.exitCode, 'the replay must still be running when Connect is killed').toBeNull();
    const state = JSON.parse(await readFile(cdcStatePath(readEnvConfig().cacheDir, cdcPrefix), 'utf8')) as { worker: { pid: number } };
    process.kill(state.worker.pid, 'SIGKILL');
    job.child.kill('SIGKILL');
    await job.exited;
    for (let wait = 0; isAlive(state.worker.pid) && wait < 50; wait += 1) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(isAlive(state.worker.pid)).toBe(false);

    const restarted = ok(await runCli(['cdc', 'start', '--topic-prefix', cdcPrefix, '--db', pg.url, '--partitions', '3'], env(), 240_000), 'cdc start again');
    expect(restarted.stderr).toContain('starting it again on its offsets');
    expect(await replay.exited).toBe(0);
    ok(await runCli(['stream', 'run', '--source', 'cdc', '--topic-prefix', cdcPrefix, '--group', `${cdcPrefix}-g`, '--from-beginning', '--until-idle', '5', '--partitions', '3'], env(), 240_000), 'stream again');

    ok(await runCli(['replay', '--scenario', scenario, '--no-db', '--topic-prefix', eventPrefix, '--partitions', '3'], env()), 'replay into Kafka');
    ok(await runCli(['stream', 'run', '--topic-prefix', eventPrefix, '--group', `${eventPrefix}-g`, '--from-beginning', '--until-idle', '5', '--partitions', '3'], env(), 240_000), 'stream on events');

    for (const name of ['customer_lifetime_value', 'daily_revenue_by_region', 'order_status_current', 'orders_enriched', 'product_sales_daily']) {
      const fromEvents = await finalValues(`${eventPrefix}.out.${name}`);
      expect(Object.keys(fromEvents).length, name).toBeGreaterThan(0);
      expect(await finalValues(`${cdcPrefix}.out.${name}`), name).toEqual(fromEvents);
    }
  }, 900_000);
});
