// `dualrun stream` as a user runs it (real child processes, real broker, real PostgreSQL): SIGTERM
// finishes, commits and leaves the group; `status` shows lag and the instance's figures; --sink-db
// upserts every output into stream_<name>; bad flags are refused with exit code 2.
import '../../src/kafkajs-fixes.ts';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { normalizeValue } from '../../batch/output.ts';
import { fetchTopicOffsets } from '../../src/kafka-client.ts';
import { dateText } from '../../batch/history.ts';
import { topicOf } from '../../src/model/codec.ts';
import { runCli } from '../support/cli.ts';
import { freshDatabase, type TestDatabase } from '../support/databases.ts';
import { handWorkedExample } from '../support/events.ts';
import { expectedHandWorked } from '../support/expected-hand-worked.ts';
import { brokers, uniqueTopic } from '../support/kafka.ts';
import { shop, shopTransforms as transforms } from '../support/shop.ts';
import { createInputTopics, finalValues, kafka, publish } from '../support/stream.ts';

const bin = fileURLToPath(new URL('../../bin/dualrun.js', import.meta.url));
const databases: TestDatabase[] = [];
afterAll(async () => {
  for (const database of databases) await database.drop();
});

async function committedLag(group: string, prefix: string): Promise<number> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    let lag = 0;
    for (const entity of shop.entities) {
      const topic = topicOf(entity, prefix);
      const ends = new Map((await fetchTopicOffsets(admin, topic)).map(({ partition, offset }) => [partition, Number(offset)]));
      const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
      for (const { partition, offset } of committed!.partitions) lag += (ends.get(partition) ?? 0) - Math.max(0, Number(offset));
    }
    return lag;
  } finally {
    await admin.disconnect();
  }
}

describe('dualrun stream CLI', { timeout: 180_000 }, () => {
  it('SIGTERM finishes the batch, commits and leaves the group; status shows lag and figures; the sink holds the outputs', async () => {
    const prefix = uniqueTopic('scli');
    const group = `${prefix}-g`;
    const database = await freshDatabase('postgres');
    databases.push(database);
    await createInputTopics(prefix, 2);
    await publish(prefix, handWorkedExample().messages);
    const child = spawn(process.execPath, [bin, 'stream', 'run', '--group', group, '--from-beginning', '--topic-prefix', prefix, '--brokers', brokers().join(','), '--sink-db', database.url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exit = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const deadline = Date.now() + 90_000;
    while ((await committedLag(group, prefix)) > 0) {
      expect(Date.now() < deadline && child.exitCode === null, output).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    await new Promise((resolve) => setTimeout(resolve, 1500)); // let stage two commit too
    child.kill('SIGTERM');
    expect(await exit, output).toBe(0);
    expect(output).toContain(`stopped after ${handWorkedExample().messages.length} events`);

    const admin = kafka().admin();
    await admin.connect();
    const { groups } = await admin.describeGroups([group]);
    await admin.disconnect();
    expect(groups[0]?.state).toBe('Empty'); // left the group: no member stays behind

    const status = await runCli(['stream', 'status', '--json', '--group', group, '--topic-prefix', prefix, '--brokers', brokers().join(',')]);
    expect(status.code, status.stderr).toBe(0);
    const parsed = JSON.parse(status.stdout) as { lag: { topic: string; lag: number }[]; instances: { live: boolean; late: number; duplicates: number; deadLetters: number; processed: number }[] };
    // Caught up means lag 0 everywhere, the transactional partials topic too (its commit markers are no records).
    expect(parsed.lag.filter((entry) => entry.topic.endsWith('.partials')).length).toBeGreaterThan(0);
    expect(parsed.lag.filter((entry) => entry.lag !== 0)).toEqual([]);
    expect(parsed).toMatchObject({ totalLag: 0 });
    // Records the stopped job has not read are lag, counted one by one.
    await publish(prefix, handWorkedExample().messages.slice(0, 3));
    const behind = await runCli(['stream', 'status', '--json', '--group', group, '--topic-prefix', prefix, '--brokers', brokers().join(',')]);
    expect(behind.code, behind.stderr).toBe(0);
    expect(JSON.parse(behind.stdout)).toMatchObject({ totalLag: 3 });
    expect(parsed.instances).toHaveLength(1);
    expect(parsed.instances[0]).toMatchObject({ live: false, late: 4, duplicates: 1, deadLetters: 0, processed: handWorkedExample().messages.length });

    for (const transform of transforms) {
      const select = transform.columns.map((column) => (column.type === 'date' ? dateText(database.db, column.name) : column.name));
      const rows = (await database.db(`stream_${transform.name}`).select(select)) as Record<string, unknown>[];
      const byKey = Object.fromEntries(
        rows.map((row) => {
          const normalized = Object.fromEntries(transform.columns.map((column) => [column.name, normalizeValue(column, row[column.name])]));
          return [JSON.stringify(transform.key.map((column) => normalized[column])), normalized];
        }),
      );
      expect(byKey, transform.name).toEqual(expectedHandWorked[transform.name]);
    }
  });

  it('refuses bad flags with exit code 2 and says how to fix them', async () => {
    const result = await runCli(['stream', 'run', '--until-idle', 'soon', '--brokers', brokers().join(',')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--until-idle must be a positive number (got "soon")');
    const notMs = await runCli(['stream', 'run', '--session-timeout', 'soon', '--brokers', brokers().join(',')]);
    expect(notMs.code).toBe(2);
    expect(notMs.stderr).toContain('--session-timeout must be a whole number of milliseconds (got "soon")');
    // Below the broker's group.min.session.timeout.ms (6 s by default): refused when the job joins its group.
    const refused = await runCli(['stream', 'run', '--session-timeout', '1000', '--topic-prefix', uniqueTopic('scli-session'), '--brokers', brokers().join(',')]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--session-timeout 1000: the broker refuses it');
    expect(refused.stderr).toContain('group.min.session.timeout.ms');
    const unknown = await runCli(['stream', 'run', '--transform', 'nope', '--brokers', brokers().join(',')]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown transformation "nope"');
  });

  it('status: exit 4 with a fix when the brokers cannot be reached; exit 2 for a group that never ran or a prefix with no topics', async () => {
    const unreachable = await runCli(['stream', 'status', '--brokers', '127.0.0.1:1']);
    expect(unreachable.code, unreachable.stderr).toBe(4);
    expect(unreachable.stderr).toContain('error: kafka 127.0.0.1:1: cannot reach the Kafka brokers');
    expect(unreachable.stderr).toContain('fix: start one with dualrun kafka start, or pass --brokers / KAFKA_BROKERS');

    const prefix = uniqueTopic('status');
    await createInputTopics(prefix, 2);
    const group = await runCli(['stream', 'status', '--group', 'nosuch', '--topic-prefix', prefix, '--brokers', brokers().join(',')]);
    expect(group.code, group.stdout + group.stderr).toBe(2);
    expect(group.stdout).toBe('');
    expect(group.stderr).toContain(`error: --group nosuch: no consumer group of that name has run on the ${prefix}.* topics`);
    const missing = uniqueTopic('nosuch');
    const topics = await runCli(['stream', 'status', '--topic-prefix', missing, '--brokers', brokers().join(',')]);
    expect(topics.code, topics.stdout + topics.stderr).toBe(2);
    expect(topics.stderr).toContain(`error: --topic-prefix ${missing}: the cluster has none of the input topics ${missing}.customers, ${missing}.products, ${missing}.fx-rates, ${missing}.orders`);
    expect(topics.stderr).toContain('fix: give the prefix the job runs on; input topics exist for ');
  });

  it("runs the user's transformations from dualrun.config.ts", async () => {
    const prefix = uniqueTopic('stream-user');
    await createInputTopics(prefix, 2);
    await publish(prefix, handWorkedExample().messages);
    const config = fileURLToPath(new URL('../../examples/shop-extension/dualrun.config.ts', import.meta.url));
    const result = await runCli(['stream', 'run', '--config', config, '--transform', 'daily_orders_by_tier', '--group', `${prefix}-g`, '--from-beginning', '--topic-prefix', prefix, '--brokers', brokers().join(','), '--until-idle', '2', '--json'], {}, 120_000);
    expect(result.code, result.stderr).toBe(0);
    // By hand (test/support/events.ts): c1 is gold throughout. 27 Oct: o1 (its redelivery is the same order
    // again) and o2, whose cancellation comes after o3 closed the day (late); o4 is late. 28 Oct: o3; o6 is
    // cancelled while its day is open; o5's customer c9 is unknown: no tier, no row.
    expect(await finalValues(`${prefix}.out.daily_orders_by_tier`)).toEqual({
      '["2024-10-27","gold"]': { business_date: '2024-10-27', tier: 'gold', order_count: 2 },
      '["2024-10-28","gold"]': { business_date: '2024-10-28', tier: 'gold', order_count: 1 },
    });
  });
});
