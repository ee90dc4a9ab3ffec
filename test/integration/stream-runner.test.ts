// The streaming runner against the real broker: the hand-worked example (test/support/events.ts)
// published to 3-partition input topics must give exactly the hand-computed outputs, late records
// and dead letters of every kind, with the job running on.
import '../../src/kafkajs-fixes.ts';
import type { Consumer } from 'kafkajs';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.ts';
import { StreamRunner } from '../../streaming/runtime/runner.ts';
import { event, handWorkedExample, messageOf } from '../support/events.ts';
import { expectedHandWorked } from '../support/expected-hand-worked.ts';
import { brokers, createTopics, uniqueTopic } from '../support/kafka.ts';
import { shop, shopTransforms } from '../support/shop.ts';
import { allMessages, createInputTopics, finalValues, publish } from '../support/stream.ts';

const prefix = uniqueTopic('srun');

/** The hand-worked example with one bad event of each kind: 3 on the orders topic, 1 on customers. */
function inputWithBadEvents() {
  const bad = messageOf(event('OrderStatusChanged', { orderId: 'zz', status: 'paid' }, '2024-10-28T10:00:00Z'), '2024-10-28T10:00:00Z');
  const badCustomer = messageOf(event('CustomerUpserted', { customerId: 'c7', name: 'X', region: 'north', tier: 'gold' }, '2024-10-28T10:00:00Z'), '2024-10-28T10:00:00Z');
  return [
    ...handWorkedExample().messages,
    { ...bad, value: Buffer.from('{"eventId": oops') },
    { ...bad, value: Buffer.from(JSON.stringify({ eventId: 'b2', type: 'OrderStatusChanged', eventTime: 'yesterday', schemaVersion: 1, payload: { orderId: 'zz', status: 'paid' } })) },
    { ...bad, value: Buffer.from(JSON.stringify({ eventId: 'b3', type: 'OrderShipped', eventTime: '2024-10-28T10:00:00Z', schemaVersion: 1, payload: {} })) },
    { ...badCustomer, value: Buffer.from('not json at all') },
  ];
}

async function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
const runners: StreamRunner[] = [];
afterAll(async () => {
  await Promise.all(runners.map((runner) => runner.stop()));
});

describe('stream runner on the real broker', () => {
  it('produces the hand-worked outputs, late records and dead letters', async () => {
    await createInputTopics(prefix, 3);
    await publish(prefix, inputWithBadEvents());
    const runner = new StreamRunner({ domain: shop, brokers: brokers(), group: `${prefix}-g`, topicPrefix: prefix, transforms: shopTransforms, fromBeginning: true, untilIdleMs: 2000, logger: silentLogger });
    runners.push(runner);
    await runner.start();
    await runner.done;

    for (const [name, rows] of Object.entries(expectedHandWorked)) expect(await finalValues(`${prefix}.out.${name}`), name).toEqual(rows);
    const metrics = runner.metrics();
    expect(metrics).toMatchObject({ late: 4, duplicates: 1, deadLetters: 4 });

    const late = await allMessages(`${prefix}.late`);
    expect(late.map((record) => `${record.key} ${record.headers['dualrun-transform']}`).sort()).toEqual(['o2 daily_revenue_by_region', 'o2 product_sales_daily', 'o4 daily_revenue_by_region', 'o4 product_sales_daily']);

    const dlq = await allMessages(`${prefix}.orders.dlq`);
    expect(dlq.map((record) => record.headers['dualrun-dlq-reason']!.split(':')[0])).toEqual(['malformed JSON', 'envelope fails its schema', 'unknown event type "OrderShipped" (known']);
    for (const record of dlq) {
      expect(record.headers['dualrun-source-topic']).toBe(`${prefix}.orders`);
      expect(Number(record.headers['dualrun-source-offset'])).toBeGreaterThanOrEqual(0);
      expect(record.headers['dualrun-source-partition']).toMatch(/^[0-2]$/);
    }
    expect(dlq[1]?.headers['dualrun-dlq-reason']).toContain('eventTime');
    const customerDlq = await allMessages(`${prefix}.customers.dlq`);
    expect(customerDlq.map((record) => [record.value, record.headers['dualrun-dlq-reason']?.startsWith('malformed JSON')])).toEqual([['not json at all', true]]);
  });

  it('does not process again a batch that kafkajs hands over again after it committed', async () => {
    const again = uniqueTopic('srun-again');
    await createInputTopics(again, 1);
    await publish(again, inputWithBadEvents());
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
    const runner = new StreamRunner({ domain: shop, brokers: brokers(), group: `${again}-g`, topicPrefix: again, transforms: shopTransforms, fromBeginning: true, logger });
    runners.push(runner);
    await runner.start();
    const total = inputWithBadEvents().length;
    await until(() => runner.metrics().processed === total, `all ${total} input events processed`);
    // kafkajs refetches from its own position after an error; a seek puts it back the same way.
    const consumer = (runner as unknown as { consumer: Consumer }).consumer;
    consumer.seek({ topic: `${again}.orders`, partition: 0, offset: '0' });
    await until(() => lines.some((line) => line.includes('skipped messages of a batch that already committed')), 'the skip to be logged');
    await runner.stop();

    expect(runner.metrics()).toMatchObject({ processed: total, late: 4, duplicates: 1, deadLetters: 4 });
    expect(await allMessages(`${again}.orders.dlq`)).toHaveLength(3);
    expect(await allMessages(`${again}.late`)).toHaveLength(4);
    for (const [name, rows] of Object.entries(expectedHandWorked)) expect(await finalValues(`${again}.out.${name}`), name).toEqual(rows);
  });

  it('refuses to continue a group whose internal topics dualrun 0.1 wrote, saying how to start over', async () => {
    const old = uniqueTopic('srun-old');
    await createInputTopics(old, 1);
    await createTopics([`${old}.stream-${old}-g.repartition`], 1);
    const runner = new StreamRunner({ domain: shop, brokers: brokers(), group: `${old}-g`, topicPrefix: old, transforms: shopTransforms, fromBeginning: true, logger: silentLogger });
    const error = await runner.start().then(() => undefined, (thrown: unknown) => thrown as Error & { hint?: string; exitCode?: number });
    await runner.stop();
    expect(error?.message).toMatch(/was run by dualrun 0\.1, whose topic .*\.repartition holds a contribution per order/);
    expect(error?.hint).toMatch(/start a new group \(--group NAME --from-beginning\)/);
    expect(error?.exitCode).toBe(2);
  });
});
