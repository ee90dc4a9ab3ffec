// Exactly-once in effect and scale-out, against the real broker with real child processes, for both
// domains: 100k generated shop events (test/support/generate.ts) and 60k metering events (the example's
// own generator, run through its dualrun.config.ts), each on 4 partitions, with a few bad events among them
// so the dead letters are part of the claim.
//  - reference: one uninterrupted run, its counts checked against what the input itself says;
//  - kill -9: the `dualrun stream run` process is SIGKILLed twice while the events are still being
//    published and once while it restores its state after a restart, and restarted each time; its final
//    outputs, late records and dead letters must equal the reference exactly, by value;
//  - scale-out: two processes in one group split the partitions and together give the reference, each
//    having processed part of the input and both together all of it, exactly once.
import '../../src/kafkajs-fixes.ts';
import { Partitioners } from 'kafkajs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.ts';
import { topicOf } from '../../src/model/codec.ts';
import { HEADERS } from '../../src/model/events.ts';
import type { DomainModel } from '../../src/model/domain.ts';
import type { Transform } from '../../src/transforms/contract.ts';
import { StreamRunner, type RunMetrics } from '../../streaming/runtime/runner.ts';
import { generateShop } from '../support/generate.ts';
import type { TestMessage } from '../support/events.ts';
import { brokers, uniqueTopic } from '../support/kafka.ts';
import { generateMeteringMessages, metering, meteringTransforms } from '../support/metering.ts';
import { shop, shopTransforms } from '../support/shop.ts';
import { killStreamJobs, startStreamJob, type StreamJob } from '../support/stream-job.ts';
import { allMessages, committedInput, createInputTopics, describeGroup, finalValues, kafka, publish, sendRequest } from '../support/stream.ts';

const meteringConfig = fileURLToPath(new URL('../../examples/metering/dualrun.config.ts', import.meta.url));
afterAll(killStreamJobs);

interface Case {
  domain: DomainModel;
  transforms: readonly Transform[];
  messages: () => Promise<TestMessage[]>;
  /** The CLI's flags for this domain (none: the default shop). */
  config: string[];
  /** The entity the bad events are put on. */
  source: string;
  /** A per-entity output, its entity, and that entity's delete: the output holds every key not deleted last. */
  main: { output: string; entity: string; deleteType: string };
}
const cases: Case[] = [
  {
    domain: shop,
    transforms: shopTransforms,
    messages: async () => generateShop({ events: 100_000, seed: 7 }),
    config: [],
    source: 'orders',
    main: { output: 'orders_enriched', entity: 'orders', deleteType: 'OrderDeleted' },
  },
  {
    domain: metering,
    transforms: meteringTransforms,
    messages: () => generateMeteringMessages({ readings: 60_000, meters: 200 }),
    config: ['--config', meteringConfig],
    source: 'readings',
    main: { output: 'meter_current', entity: 'meters', deleteType: 'MeterDecommissioned' },
  },
];

interface Envelope {
  eventId: string;
  type: string;
}
const envelopeOf = (message: TestMessage): Envelope | null => (message.value === null ? null : (JSON.parse(message.value.toString()) as Envelope));

/** Three bad events, a quarter, half and three quarters into the input, on `source`'s topic, and the reason each dead letter must start with. */
function withBadEvents(good: TestMessage[], source: string): { messages: TestMessage[]; bad: { value: string; reason: string }[] } {
  const bad = [
    { at: 0.25, change: null, reason: 'malformed JSON' },
    { at: 0.5, change: { type: 'NoSuchEvent' }, reason: 'unknown event type "NoSuchEvent"' },
    { at: 0.75, change: { eventTime: 'yesterday' }, reason: 'envelope fails its schema: eventTime' },
  ].map(({ at, change, reason }) => {
    const index = Math.floor(good.length * at);
    // A neighbour of the same entity lends its key, arrival and headers; its event id is made new.
    const neighbour = good.slice(index).find((message) => message.entity === source)!;
    const eventId = `bad-${at}`;
    const value = change === null ? '{"eventId": oops' : JSON.stringify({ ...envelopeOf(neighbour), eventId, ...change });
    const message: TestMessage = { ...neighbour, value: Buffer.from(value), headers: { ...neighbour.headers, [HEADERS.eventId]: eventId } };
    return { index, message, value, reason };
  });
  const messages = [...good];
  for (const { index, message } of [...bad].reverse()) messages.splice(index, 0, message);
  return { messages, bad: bad.map(({ value, reason }) => ({ value, reason })) };
}

/** Keys of `entity` whose last event (redeliveries dropped, as the dedupe does) is not its delete: what a per-entity output must hold. */
function liveKeys(messages: TestMessage[], entity: string, deleteType: string): number {
  const live = new Set<string>();
  const seen = new Set<string>();
  for (const message of messages) {
    const id = message.headers[HEADERS.eventId]!;
    if (message.entity !== entity || seen.has(id)) continue;
    seen.add(id);
    const key = message.key.toString();
    if (message.value === null || envelopeOf(message)!.type === deleteType) live.delete(key);
    else live.add(key);
  }
  return live.size;
}

/** Deliveries of an event id already delivered: what the dedupe must drop. */
function redeliveries(messages: TestMessage[]): number {
  const seen = new Set<string>();
  let again = 0;
  for (const message of messages) {
    const id = message.headers[HEADERS.eventId]!;
    if (seen.has(id)) again += 1;
    seen.add(id);
  }
  return again;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(cases)('exactly-once in effect: $domain.name', { timeout: 900_000 }, ({ domain, transforms, messages: generate, config, source, main }) => {
  let good: TestMessage[];
  let messages: TestMessage[];
  let bad: { value: string; reason: string }[];
  beforeAll(async () => {
    good = await generate();
    ({ messages, bad } = withBadEvents(good, source));
  });

  function startJob(prefix: string, group: string, ...flags: string[]): StreamJob {
    // info: the kill during a restore waits for "stream runner started" (the group joined, the restore begun).
    return startStreamJob([...config, '--group', group, '--from-beginning', '--topic-prefix', prefix, '--brokers', brokers().join(','), '--until-idle', '4', ...flags], { logLevel: 'info' });
  }

  /** Resolves once the group is stable with both jobs in it. */
  async function bothMembers(group: string, jobs: StreamJob[]): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const described = await describeGroup(group);
      if (described.state === 'Stable' && described.members === jobs.length) return;
      for (const job of jobs) expect(job.child.exitCode, job.log()).toBeNull();
      expect(Date.now() < deadline, `the group ${group} never held both jobs: ${JSON.stringify(described)}`).toBe(true);
      await sleep(100);
    }
  }

  /** Every output's final values, and the late records and dead letters by value and source position. */
  async function outputsOf(prefix: string) {
    const result: Record<string, Record<string, unknown>> = {};
    for (const transform of transforms) result[transform.name] = await finalValues(`${prefix}.out.${transform.name}`);
    const at = (headers: Record<string, string>) => `${headers['dualrun-source-topic']!.slice(prefix.length)}/${headers['dualrun-source-partition']}@${headers['dualrun-source-offset']}`;
    const late = (await allMessages(`${prefix}.late`)).map((r) => `${r.key}|${r.headers['dualrun-transform']}|${at(r.headers)}|${r.value}`).sort();
    const deadLetters = (await allMessages(`${prefix}.${source}.dlq`)).map((r) => ({ at: at(r.headers), reason: r.headers['dualrun-dlq-reason']!, value: r.value })).sort((a, b) => a.at.localeCompare(b.at));
    return { outputs: result, late, deadLetters };
  }

  /**
   * Publishes in arrival order, 500 messages a request, never more than `ahead` beyond what `committed()`
   * says the job has done, nor beyond `cap()`: the test raises the cap after each kill, so however fast the
   * job, the input is not all published when it is killed.
   */
  function publishPaced(prefix: string, ahead: number, committed: () => number, cap: () => number): { published: () => number; done: Promise<void> } {
    let published = 0;
    const done = (async () => {
      const producer = kafka().producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      try {
        while (published < messages.length) {
          if (published - committed() > ahead || published >= cap()) {
            await sleep(100);
            continue;
          }
          const chunk = messages.slice(published, published + 500);
          await sendRequest(producer, prefix, chunk, domain);
          published += chunk.length;
        }
      } finally {
        await producer.disconnect();
      }
    })();
    return { published: () => published, done };
  }

  let reference: Awaited<ReturnType<typeof outputsOf>>;

  it('an uninterrupted run gives the reference, with the counts the input itself gives', async () => {
    const prefix = uniqueTopic('eos-ref');
    await createInputTopics(prefix, 4, domain);
    await publish(prefix, messages, 5000, domain);
    const runner = new StreamRunner({ domain, brokers: brokers(), group: `${prefix}-g`, topicPrefix: prefix, transforms, fromBeginning: true, untilIdleMs: 3000, logger: silentLogger });
    await runner.start();
    await runner.done;
    reference = await outputsOf(prefix);
    const metrics = runner.metrics();
    expect(metrics.processed).toBe(messages.length);
    expect(Object.keys(reference.outputs[main.output]!)).toHaveLength(liveKeys(good, main.entity, main.deleteType));
    expect(metrics.duplicates).toBe(redeliveries(good));
    expect(metrics.late).toBe(reference.late.length);
    expect(reference.late.length).toBeGreaterThan(0); // the generators make late events: the comparison below is of something
    // Each bad event is one dead letter, with its reason, at the position it was published to.
    const input = await allMessages(`${prefix}.${source}`);
    const expectedLetters = bad.map(({ value, reason }) => {
      const { partition, offset } = input.find((record) => record.value === value)!;
      return { at: `.${source}/${partition}@${offset}`, value, reason };
    }).sort((a, b) => a.at.localeCompare(b.at));
    expect(metrics.deadLetters).toBe(bad.length);
    expect(reference.deadLetters.map(({ at, value }) => ({ at, value }))).toEqual(expectedLetters.map(({ at, value }) => ({ at, value })));
    reference.deadLetters.forEach((letter, index) => expect(letter.reason.startsWith(expectedLetters[index]!.reason), letter.reason).toBe(true));
  });

  it('kill -9 twice while the input still arrives and once during a restore, restarting each time, changes nothing', async () => {
    const prefix = uniqueTopic('eos-kill');
    const group = `${prefix}-g`;
    await createInputTopics(prefix, 4, domain);
    let committed = 0;
    let polling = true;
    const poller = (async () => {
      while (polling) {
        committed = await committedInput(group, prefix, domain);
        await sleep(200);
      }
    })();
    // Up to 45 % until the first kill, 75 % until the third, then the rest.
    let cap = Math.floor(messages.length * 0.45);
    const publishing = publishPaced(prefix, Math.floor(messages.length * 0.2), () => committed, () => cap);
    try {
      let job = startJob(prefix, group);
      const kills: { committed: number; published: number }[] = [];
      const kill = async () => {
        job.child.kill('SIGKILL');
        await job.exit;
        kills.push({ committed: await committedInput(group, prefix, domain), published: publishing.published() });
        cap = kills.length === 1 ? Math.floor(messages.length * 0.75) : kills.length === 3 ? messages.length : cap;
        job = startJob(prefix, group);
      };
      // Kills 1 and 2: each once the job has committed another 15 % of the input since it (re)started, then
      // at a random moment within the next 0-2 s: every kill interrupts a job that has state to restore.
      for (const round of [0, 1]) {
        const since = kills[round - 1]?.committed ?? 0;
        const deadline = Date.now() + 240_000;
        while (committed <= since + messages.length * 0.15) {
          expect(Date.now() < deadline && job.child.exitCode === null, `no progress after restart ${round}:\n${job.log()}`).toBe(true);
          await sleep(100);
        }
        await sleep(Math.floor(Math.random() * 2000));
        await kill();
      }
      // Kill 3: as soon as the restarted job has joined the group and begun restoring its state.
      while (!job.log().includes('stream runner started')) {
        expect(job.child.exitCode, job.log()).toBeNull();
        await sleep(20);
      }
      await sleep(Math.floor(Math.random() * 300));
      await kill();

      expect(kills[0]!.committed).toBeLessThan(kills[1]!.committed);
      expect(kills[2]!.committed, 'the third kill came before the restarted job committed anything').toBe(kills[1]!.committed);
      for (const { published } of kills) expect(published, 'the input was still being published').toBeLessThan(messages.length);
      await publishing.done;
      expect(await job.exit, job.log()).toBe(0);
    } finally {
      polling = false;
      await poller;
    }
    const killed = await outputsOf(prefix);
    expect(killed.deadLetters).toEqual(reference.deadLetters);
    expect(killed.late).toEqual(reference.late);
    for (const transform of transforms) expect(killed.outputs[transform.name], transform.name).toEqual(reference.outputs[transform.name]);
  });

  it('two processes in one group split the partitions and together give the reference, each event processed once', async () => {
    const prefix = uniqueTopic('eos-two');
    const group = `${prefix}-g`;
    await createInputTopics(prefix, 4, domain);
    const first = startJob(prefix, group, '--json');
    const second = startJob(prefix, group, '--json');
    // The input is published once both are members: published before, the first to join could process
    // all of it before the second was given any partition (seen in CI with the small metering input).
    await bothMembers(group, [first, second]);
    await publish(prefix, messages, 5000, domain);
    expect(await first.exit, first.log()).toBe(0);
    expect(await second.exit, second.log()).toBe(0);
    const both = await outputsOf(prefix);
    expect(both.deadLetters).toEqual(reference.deadLetters);
    expect(both.late).toEqual(reference.late);
    for (const transform of transforms) expect(both.outputs[transform.name], transform.name).toEqual(reference.outputs[transform.name]);
    // --json's last line: the final metrics. Each owned input partitions and processed some of the input
    // (counted when committed), and together they processed every event exactly once.
    const inputTopics = new Set(domain.entities.map((entity) => topicOf(entity, prefix)));
    const finals = [first.log(), second.log()].map((log) => JSON.parse(log.trim().split('\n').findLast((line) => line.startsWith('{"instance"'))!) as RunMetrics);
    for (const final of finals) {
      expect(final.partitions.filter((id) => inputTopics.has(id.slice(0, id.lastIndexOf(':')))).length, JSON.stringify(final.partitions)).toBeGreaterThan(0);
      expect(final.processed).toBeGreaterThan(0);
    }
    expect(finals[0]!.processed + finals[1]!.processed).toBe(messages.length);
  });
});
