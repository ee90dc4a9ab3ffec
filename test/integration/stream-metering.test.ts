// The streaming job on a second domain (the metering example, written against the public API only), on
// the real broker: a bad event of every kind on its topics goes to that topic's dead-letter topic with the
// reason and the coordinates of the message it was, and the job runs on as if it had not been there.
import '../../src/kafkajs-fixes.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.ts';
import { HEADERS } from '../../src/model/events.ts';
import { StreamRunner } from '../../streaming/runtime/runner.ts';
import { CASE_HEADER, badMessages, expectDeadLetters, type BadMessage } from '../support/dead-letters.ts';
import type { TestMessage } from '../support/events.ts';
import { brokers, uniqueTopic } from '../support/kafka.ts';
import { generateMeteringMessages, metering, meteringTransforms } from '../support/metering.ts';
import { createInputTopics, finalValues, publish } from '../support/stream.ts';

const runners: StreamRunner[] = [];
afterAll(async () => {
  await Promise.all(runners.map((runner) => runner.stop()));
});

const envelope = (type: string, payload: object) => Buffer.from(JSON.stringify({ eventId: `bad-${type}`, type, eventTime: '2024-04-06T01:00:00.000Z', schemaVersion: 1, payload }));
const reading = (kwh: string) => ({ readingId: 'R-bad', meterId: 'M1', readAt: '2024-04-06T01:00:00.000Z', kwh });
const headers = { [HEADERS.eventId]: 'bad-ReadingTaken', [HEADERS.type]: 'ReadingTaken', [HEADERS.eventTime]: '2024-04-06T01:00:00.000Z', [HEADERS.arrivalTime]: '2024-04-06T01:00:00.000Z' };
/** A reading whose kWh the domain's field refuses, labelled like the shared bad messages. */
const badReading = (label: string, kwh: string, reason: string): BadMessage => ({ label, reason, message: { entity: 'readings', key: Buffer.from('R-bad'), value: envelope('ReadingTaken', reading(kwh)), timestamp: String(Date.parse('2024-04-06T01:00:00Z')), headers: { ...headers, [CASE_HEADER]: label } } });

describe('the streaming job on the metering domain', { timeout: 300_000 }, () => {
  let good: TestMessage[];
  let bad: BadMessage[];
  beforeAll(async () => {
    good = await generateMeteringMessages({ readings: 5_000, meters: 40, days: 2 });
    // Every kind on every topic (test/support/dead-letters.ts), and the payload checks of the domain's own fields.
    bad = [
      ...metering.entities.flatMap((entity) => badMessages(metering, entity.name, good)),
      badReading('readings/kwh not a decimal', 'lots', 'envelope fails its schema: payload.kwh: expected a decimal number with at most 3 digits after the point, like 12.500, found "lots"'),
      badReading('readings/kwh below its minimum', '-1.000', 'envelope fails its schema: payload.kwh: expected a number of at least 0, found "-1.000"'),
    ];
  });

  async function run(prefix: string, messages: TestMessage[]): Promise<StreamRunner> {
    await createInputTopics(prefix, 3, metering);
    await publish(prefix, messages, 5000, metering);
    const runner = new StreamRunner({ domain: metering, brokers: brokers(), group: `${prefix}-g`, topicPrefix: prefix, transforms: meteringTransforms, fromBeginning: true, untilIdleMs: 2000, logger: silentLogger });
    runners.push(runner);
    await runner.start();
    await runner.done;
    return runner;
  }

  it('dead-letters a bad event of every kind, naming why and where it was, and gives the outputs of the good events alone', async () => {
    const clean = uniqueTopic('meter-clean');
    await run(clean, good);
    const dirty = uniqueTopic('meter-dlq');
    // The bad events among the good ones, not at the end: the job must run on past each.
    const mixed = [...good];
    for (const [index, { message }] of bad.entries()) mixed.splice(Math.floor(((index + 1) * good.length) / (bad.length + 1)), 0, message);
    const runner = await run(dirty, mixed);

    expect(runner.metrics().deadLetters).toBe(bad.length);
    for (const transform of meteringTransforms) {
      const reference = await finalValues(`${clean}.out.${transform.name}`);
      expect(Object.keys(reference).length, transform.name).toBeGreaterThan(0);
      expect(await finalValues(`${dirty}.out.${transform.name}`), transform.name).toEqual(reference);
    }

    for (const entity of metering.entities) await expectDeadLetters(`${dirty}.${entity.topic}`, bad.filter(({ message }) => message.entity === entity.name));
  });
});
