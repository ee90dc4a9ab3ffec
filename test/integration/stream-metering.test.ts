// The streaming job on a second domain (the metering example, written against the public API only), on
// the real broker: a bad event of every kind on its topics goes to that topic's dead-letter topic with the
// reason and the coordinates of the message it was, and the job runs on as if it had not been there.
import '../../src/kafkajs-fixes.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.ts';
import { HEADERS } from '../../src/model/events.ts';
import { StreamRunner } from '../../streaming/runtime/runner.ts';
import type { TestMessage } from '../support/events.ts';
import { brokers, uniqueTopic } from '../support/kafka.ts';
import { generateMeteringMessages, metering, meteringTransforms } from '../support/metering.ts';
import { allMessages, createInputTopics, finalValues, publish } from '../support/stream.ts';

const runners: StreamRunner[] = [];
afterAll(async () => {
  await Promise.all(runners.map((runner) => runner.stop()));
});

const envelope = (type: string, payload: object, eventTime = '2024-04-06T01:00:00.000Z') => Buffer.from(JSON.stringify({ eventId: `bad-${type}`, type, eventTime, schemaVersion: 1, payload }));
const reading = (kwh: string) => ({ readingId: 'R-bad', meterId: 'M1', readAt: '2024-04-06T01:00:00.000Z', kwh });
const headers = (type: string) => ({ [HEADERS.eventId]: `bad-${type}`, [HEADERS.type]: type, [HEADERS.eventTime]: '2024-04-06T01:00:00.000Z', [HEADERS.arrivalTime]: '2024-04-06T01:00:00.000Z' });
const message = (entity: string, key: string, value: Buffer | null, type = 'ReadingTaken'): TestMessage => ({ entity, key: Buffer.from(key), value, timestamp: String(Date.parse('2024-04-06T01:00:00Z')), headers: headers(type) });

/** One bad message of each kind, and the reason its dead letter must give (its start). */
const BAD: { message: TestMessage; reason: string }[] = [
  { message: message('readings', 'R-bad', Buffer.from('{"eventId": oops')), reason: 'malformed JSON' },
  { message: message('readings', 'R-bad', envelope('ReadingTaken', reading('1.000'), 'yesterday')), reason: 'envelope fails its schema: eventTime: expected an ISO-8601 time with an offset' },
  { message: message('readings', 'R-bad', envelope('ReadingTaken', reading('lots'))), reason: 'envelope fails its schema: payload.kwh: expected a decimal number with at most 3 digits after the point, like 12.500, found "lots"' },
  { message: message('readings', 'R-bad', envelope('ReadingTaken', reading('-1.000'))), reason: 'envelope fails its schema: payload.kwh: expected a number of at least 0, found "-1.000"' },
  { message: message('readings', 'R-bad', envelope('ReadingLost', reading('1.000'))), reason: 'unknown event type "ReadingLost" (known: SiteRegistered, TariffPriced, MeterInstalled' },
  { message: message('readings', 'M1', envelope('MeterInstalled', { meterId: 'M1', siteId: 'S1', tariffId: 'T1' })), reason: 'event type MeterInstalled does not belong on the readings topic' },
  { message: { ...message('meters', 'M1', null), headers: {} }, reason: 'tombstone without the headers' },
  { message: message('meters', 'M1', null, 'MeterTariffChanged'), reason: 'tombstone of event type "MeterTariffChanged", which is not a delete (deletes: MeterDecommissioned)' },
];

describe('the streaming job on the metering domain', { timeout: 300_000 }, () => {
  let good: TestMessage[];
  beforeAll(async () => {
    good = await generateMeteringMessages({ readings: 5_000, meters: 40, days: 2 });
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
    for (const [index, { message: bad }] of BAD.entries()) mixed.splice(Math.floor(((index + 1) * good.length) / (BAD.length + 1)), 0, bad);
    const runner = await run(dirty, mixed);

    expect(runner.metrics().deadLetters).toBe(BAD.length);
    for (const transform of meteringTransforms) {
      const reference = await finalValues(`${clean}.out.${transform.name}`);
      expect(Object.keys(reference).length, transform.name).toBeGreaterThan(0);
      expect(await finalValues(`${dirty}.out.${transform.name}`), transform.name).toEqual(reference);
    }

    for (const entity of ['readings', 'meters']) {
      const wanted = BAD.filter(({ message: bad }) => bad.entity === entity);
      const letters = await allMessages(`${dirty}.${entity}.dlq`);
      const source = await allMessages(`${dirty}.${entity}`);
      expect(letters).toHaveLength(wanted.length);
      for (const { reason } of wanted) expect(letters.filter((letter) => letter.headers['dualrun-dlq-reason']!.startsWith(reason)), reason).toHaveLength(1);
      for (const letter of letters) {
        // The coordinates name the very message: its topic, partition and offset hold what the letter holds.
        expect(letter.headers['dualrun-source-topic']).toBe(`${dirty}.${entity}`);
        const original = source.find((candidate) => candidate.partition === Number(letter.headers['dualrun-source-partition']) && candidate.offset === letter.headers['dualrun-source-offset']);
        expect(original, JSON.stringify(letter.headers)).toBeDefined();
        expect([original!.key, original!.value]).toEqual([letter.key, letter.value]);
      }
    }
  });
});
