// Exactly-once in effect and scale-out, against the real broker with real child processes, for both
// domains: 100k generated shop events (test/support/generate.ts) and 60k metering events (the example's
// own generator, run through its dualrun.config.ts), each on 4 partitions.
//  - reference: one uninterrupted run;
//  - kill -9: while the events are being published, the `dualrun stream run` process is SIGKILLed at
//    three random moments and restarted each time; its final outputs (and late records) must equal the
//    reference exactly;
//  - scale-out: two processes in one group split the partitions and together give the reference.
import '../../src/kafkajs-fixes.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.ts';
import { topicOf } from '../../src/model/codec.ts';
import type { DomainModel } from '../../src/model/domain.ts';
import type { Transform } from '../../src/transforms/contract.ts';
import { StreamRunner } from '../../streaming/runtime/runner.ts';
import { generateShop } from '../support/generate.ts';
import type { TestMessage } from '../support/events.ts';
import { brokers, uniqueTopic } from '../support/kafka.ts';
import { generateMeteringMessages, metering, meteringTransforms } from '../support/metering.ts';
import { shop, shopTransforms } from '../support/shop.ts';
import { allMessages, createInputTopics, finalValues, kafka, publish } from '../support/stream.ts';

const bin = fileURLToPath(new URL('../../bin/dualrun.js', import.meta.url));
const meteringConfig = fileURLToPath(new URL('../../examples/metering/dualrun.config.ts', import.meta.url));
const children = new Set<ChildProcess>();
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

interface Case {
  domain: DomainModel;
  transforms: readonly Transform[];
  messages: () => Promise<TestMessage[]>;
  /** The CLI's flags for this domain (none: the default shop). */
  config: string[];
  /** An output and how many rows it must at least have: the generated rows reached it. */
  main: [string, number];
}
const cases: Case[] = [
  { domain: shop, transforms: shopTransforms, messages: async () => generateShop({ events: 100_000, seed: 7 }), config: [], main: ['orders_enriched', 60_000] },
  { domain: metering, transforms: meteringTransforms, messages: () => generateMeteringMessages({ readings: 60_000, meters: 200 }), config: ['--config', meteringConfig], main: ['site_hourly_kwh', 1_500] },
];

describe.each(cases)('exactly-once in effect: $domain.name', { timeout: 900_000 }, ({ domain, transforms, messages: generate, config, main }) => {
  let messages: TestMessage[];
  beforeAll(async () => {
    messages = await generate();
  });

  function startJob(prefix: string, group: string): { child: ChildProcess; exit: Promise<number | null>; log: () => string } {
    const child = spawn(process.execPath, [bin, 'stream', 'run', ...config, '--group', group, '--from-beginning', '--topic-prefix', prefix, '--brokers', brokers().join(','), '--until-idle', '4'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DUALRUN_LOG_LEVEL: 'warn' },
    });
    children.add(child);
    let log = '';
    child.stdout!.on('data', (chunk: Buffer) => (log += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => {
      children.delete(child);
      resolve(code);
    }));
    return { child, exit, log: () => log };
  }

  async function outputsOf(prefix: string) {
    const result: Record<string, Record<string, unknown>> = {};
    for (const transform of transforms) result[transform.name] = await finalValues(`${prefix}.out.${transform.name}`);
    const late = (await allMessages(`${prefix}.late`)).map((r) => `${r.key}|${r.headers['dualrun-transform']}|${r.headers['dualrun-source-partition']}@${r.headers['dualrun-source-offset']}`).sort();
    return { outputs: result, late };
  }

  /** Input offsets the group has committed, over all input topics. */
  async function committedInput(group: string, prefix: string): Promise<number> {
    const admin = kafka().admin();
    await admin.connect();
    try {
      const topics = domain.entities.map((entity) => topicOf(entity, prefix));
      const offsets = await admin.fetchOffsets({ groupId: group, topics });
      return offsets.flatMap(({ partitions }) => partitions).reduce((sum, { offset }) => sum + Math.max(0, Number(offset)), 0);
    } finally {
      await admin.disconnect();
    }
  }

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  let reference: Awaited<ReturnType<typeof outputsOf>>;

  it('an uninterrupted run gives the reference', async () => {
    const prefix = uniqueTopic('eos-ref');
    await createInputTopics(prefix, 4, domain);
    await publish(prefix, messages, 5000, domain);
    const runner = new StreamRunner({ domain, brokers: brokers(), group: `${prefix}-g`, topicPrefix: prefix, transforms, fromBeginning: true, untilIdleMs: 3000, logger: silentLogger });
    await runner.start();
    await runner.done;
    reference = await outputsOf(prefix);
    // Sanity: the generator's rows are there (redeliveries and late ones included).
    expect(Object.keys(reference.outputs[main[0]]!).length).toBeGreaterThan(main[1]);
    expect(reference.late.length).toBeGreaterThan(100);
    expect(runner.metrics().duplicates).toBeGreaterThan(100);
  });

  it('kill -9 at three random moments during the replay, restarting each time, changes nothing', async () => {
    const prefix = uniqueTopic('eos-kill');
    const group = `${prefix}-g`;
    await createInputTopics(prefix, 4, domain);
    const publishing = publish(prefix, messages, 1000, domain);
    let job = startJob(prefix, group);
    // Kill only after the job has committed new work since it (re)started, then at a random moment
    // within the next 0-2 s: every kill interrupts a job that has state to restore.
    const committedAtKill: number[] = [];
    let last = 0;
    for (let round = 0; round < 3; round += 1) {
      const deadline = Date.now() + 240_000;
      while ((await committedInput(group, prefix)) <= last + 2000) {
        expect(Date.now() < deadline && job.child.exitCode === null, `no progress after restart ${round}:\n${job.log()}`).toBe(true);
        await sleep(200);
      }
      await sleep(Math.floor(Math.random() * 2000));
      job.child.kill('SIGKILL');
      await job.exit;
      last = await committedInput(group, prefix);
      committedAtKill.push(last);
      job = startJob(prefix, group);
    }
    await publishing;
    // The kills happened mid-run, each after more progress.
    expect(committedAtKill[2]!).toBeLessThan(messages.length);
    expect(committedAtKill[0]! < committedAtKill[1]! && committedAtKill[1]! < committedAtKill[2]!).toBe(true);
    expect(await job.exit, job.log()).toBe(0);
    const killed = await outputsOf(prefix);
    expect(killed.late).toEqual(reference.late);
    for (const transform of transforms) expect(killed.outputs[transform.name], transform.name).toEqual(reference.outputs[transform.name]);
  });

  it('two processes in one group split the partitions and together give the reference', async () => {
    const prefix = uniqueTopic('eos-two');
    const group = `${prefix}-g`;
    await createInputTopics(prefix, 4, domain);
    await publish(prefix, messages, 5000, domain);
    const first = startJob(prefix, group);
    const second = startJob(prefix, group);
    expect(await first.exit, first.log()).toBe(0);
    expect(await second.exit, second.log()).toBe(0);
    const both = await outputsOf(prefix);
    expect(both.late).toEqual(reference.late);
    for (const transform of transforms) expect(both.outputs[transform.name], transform.name).toEqual(reference.outputs[transform.name]);
    // Each did part of the work.
    const processed = [first.log(), second.log()].map((log) => Number(/stopped after (\d+) events/.exec(log)?.[1] ?? NaN));
    expect(processed.every((count) => count > 0 && count < messages.length)).toBe(true);
  });
});
