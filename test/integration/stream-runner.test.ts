// The streaming runner against the real broker: the hand-worked example (test/support/events.ts)
// published to 3-partition input topics must give exactly the hand-computed outputs, late records
// and dead letters of every kind, with the job running on.
import '../../src/kafkajs-fixes.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.ts';
import { StreamRunner } from '../../streaming/runtime/runner.ts';
import { streamTransforms } from '../../streaming/transforms.ts';
import { event, handWorkedExample, messageOf } from '../support/events.ts';
import { expectedHandWorked } from '../support/expected-hand-worked.ts';
import { brokers, uniqueTopic } from '../support/kafka.ts';
import { allMessages, createInputTopics, finalValues, publish } from '../support/stream.ts';

const prefix = uniqueTopic('srun');
const runners: StreamRunner[] = [];
afterAll(async () => {
  await Promise.all(runners.map((runner) => runner.stop()));
});

describe('stream runner on the real broker', () => {
  it('produces the hand-worked outputs, late records and dead letters', async () => {
    await createInputTopics(prefix, 3);
    const bad = messageOf(event('OrderStatusChanged', { orderId: 'zz', status: 'paid' }, '2024-10-28T10:00:00Z'), '2024-10-28T10:00:00Z');
    const badCustomer = messageOf(event('CustomerUpserted', { customerId: 'c7', name: 'X', region: 'north', tier: 'gold' }, '2024-10-28T10:00:00Z'), '2024-10-28T10:00:00Z');
    await publish(prefix, [
      ...handWorkedExample().messages,
      { ...bad, value: Buffer.from('{"eventId": oops') },
      { ...bad, value: Buffer.from(JSON.stringify({ eventId: 'b2', type: 'OrderStatusChanged', eventTime: 'yesterday', schemaVersion: 1, payload: { orderId: 'zz', status: 'paid' } })) },
      { ...bad, value: Buffer.from(JSON.stringify({ eventId: 'b3', type: 'OrderShipped', eventTime: '2024-10-28T10:00:00Z', schemaVersion: 1, payload: {} })) },
      { ...badCustomer, value: Buffer.from('not json at all') },
    ]);
    const runner = new StreamRunner({ brokers: brokers(), group: `${prefix}-g`, topicPrefix: prefix, transforms: streamTransforms, fromBeginning: true, untilIdleMs: 2000, logger: silentLogger });
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
});
