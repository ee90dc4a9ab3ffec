// The streaming job on change data capture, as in a real migration: the replay writes only the legacy
// database (a PostgreSQL cluster of the test's own, wal_level=logical), one transaction per business
// event as the legacy application commits them; Debezium turns the WAL into change events;
// `dualrun stream run --source cdc` folds each transaction into the domain's events and runs the job.
// Its outputs must equal those of the same job fed with dualrun's own events of the same scenario.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../support/cli.ts';
import { brokers, kafkaClient } from '../support/kafka.ts';
import { finalValues } from '../support/stream.ts';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../support/throwaway-postgres.ts';

const id = randomUUID().slice(0, 8);
const cdcPrefix = `cdcs${id}`;
const eventPrefix = `evs${id}`;
let pg: ThrowawayPostgres;
const env = (): NodeJS.ProcessEnv => ({ KAFKA_BROKERS: brokers().join(','), DUALRUN_LOG_LEVEL: 'silent', CONNECT_URL: '' });

function ok(result: CliResult, what: string): CliResult {
  expect(result.code, `${what}:\n${result.stderr}\n${result.stdout}`).toBe(0);
  return result;
}

beforeAll(async () => {
  pg = await startThrowawayPostgres();
  ok(await runCli(['cdc', 'start', '--db', pg.url, '--topic-prefix', cdcPrefix, '--partitions', '3', '--create-schema'], env(), 240_000), 'cdc start');
}, 300_000);

afterAll(async () => {
  await runCli(['cdc', 'stop', '--topic-prefix', cdcPrefix], env());
  await pg?.stop();
});

async function outputTopics(prefix: string): Promise<string[]> {
  const admin = kafkaClient('dualrun-test-admin').admin();
  await admin.connect();
  try {
    return (await admin.listTopics()).filter((topic) => topic.startsWith(`${prefix}.out.`)).sort();
  } finally {
    await admin.disconnect();
  }
}

describe('dualrun stream run --source cdc', { timeout: 300_000 }, () => {
  it('on the shop baseline, replayed into the legacy database only, gives the outputs of the event-fed run', async () => {
    ok(await runCli(['replay', '--scenario', 'baseline', '--db', pg.url, '--no-kafka', '--batch-size', '1'], env()), 'replay into the database');
    const cdcRun = ok(await runCli(['stream', 'run', '--source', 'cdc', '--topic-prefix', cdcPrefix, '--group', `${cdcPrefix}-g`, '--from-beginning', '--until-idle', '5', '--partitions', '3', '--json'], env(), 240_000), 'stream --source cdc');

    ok(await runCli(['replay', '--scenario', 'baseline', '--no-db', '--topic-prefix', eventPrefix, '--partitions', '3'], env()), 'replay into Kafka');
    const eventRun = ok(await runCli(['stream', 'run', '--topic-prefix', eventPrefix, '--group', `${eventPrefix}-g`, '--from-beginning', '--until-idle', '5', '--partitions', '3', '--json'], env(), 240_000), 'stream on events');

    const cdcFigures = JSON.parse(cdcRun.stdout) as { processed: number; deadLetters: number; late: number };
    const eventFigures = JSON.parse(eventRun.stdout) as { processed: number; deadLetters: number; late: number };
    expect(cdcFigures.deadLetters).toBe(0);
    expect(cdcFigures.late).toBe(eventFigures.late);
    expect(cdcFigures.processed).toBeGreaterThan(0);

    const names = (await outputTopics(eventPrefix)).map((topic) => topic.slice(`${eventPrefix}.out.`.length));
    expect(names.length).toBeGreaterThanOrEqual(5);
    expect((await outputTopics(cdcPrefix)).map((topic) => topic.slice(`${cdcPrefix}.out.`.length))).toEqual(names);
    for (const name of names) {
      const fromEvents = await finalValues(`${eventPrefix}.out.${name}`);
      expect(Object.keys(fromEvents).length, name).toBeGreaterThan(0);
      expect(await finalValues(`${cdcPrefix}.out.${name}`), name).toEqual(fromEvents);
    }
  });
});
