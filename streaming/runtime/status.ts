/**
 * `dualrun stream status`: lag per partition of the job's consumer group (records between the committed
 * offset and the end offset, from the broker) and the last figures each instance published on the
 * metrics topic. A group that never ran, or a prefix with no input topics, is an error, not a lag.
 */
import '../../src/kafkajs-fixes.ts';
import { randomUUID } from 'node:crypto';
import type { DomainModel } from '../../src/model/domain.ts';
import { UnavailableError, UsageError, messageOf } from '../../src/errors.ts';
import { TopicNames } from '../tasks/model.ts';
import { readToEnd } from './reader.ts';
import { recordsBetween, type OffsetRange } from './records-between.ts';
import type { RunMetrics } from './runner.ts';
import { createKafka, fetchTopicOffsets } from '../../src/kafka-client.ts';

/** Gaps up to this many offsets are read to count records apart from transaction markers; longer ones count offsets. */
const MARKER_SCAN_LIMIT = 1000n;

export interface StreamStatus {
  group: string;
  totalLag: number;
  lag: { topic: string; partition: number; committed: string; end: string; lag: number }[];
  instances: (RunMetrics & { live: boolean })[];
}

export async function readStatus(options: { domain: DomainModel; brokers: string[]; group: string; topicPrefix: string }): Promise<StreamStatus> {
  // A look, not a job: a few retries (a couple of seconds), not kafkajs' default of about ten seconds.
  const kafka = createKafka({ clientId: `dualrun-status-${randomUUID().slice(0, 6)}`, brokers: options.brokers, retry: { retries: 3 } });
  const names = new TopicNames(options.topicPrefix, options.group);
  const admin = kafka.admin();
  try {
    await admin.connect();
  } catch (error) {
    throw new UnavailableError(`kafka ${options.brokers.join(',')}`, `cannot reach the Kafka brokers: ${messageOf(error)}`, { cause: error, hint: 'start one with dualrun kafka start, or pass --brokers / KAFKA_BROKERS' });
  }
  try {
    const existing = new Set(await admin.listTopics());
    const inputs = options.domain.entities.map((entity) => names.input(entity));
    if (!inputs.some((topic) => existing.has(topic))) throw noSuchPrefix(options.topicPrefix, inputs, existing);
    const topics = [...inputs, names.repartition].filter((topic) => existing.has(topic));
    const offsets = await admin.fetchOffsets({ groupId: options.group, topics });
    if (offsets.every(({ partitions }) => partitions.every(({ offset }) => offset === '-1'))) await refuseUnknownGroup(admin, options.group, options.topicPrefix);
    const lag: StreamStatus['lag'] = [];
    const gaps: OffsetRange[] = [];
    for (const { topic, partitions } of offsets) {
      const ends = new Map((await fetchTopicOffsets(admin, topic)).map(({ partition, offset }) => [partition, offset]));
      for (const { partition, offset } of partitions) {
        const end = ends.get(partition) ?? '0';
        const from = offset === '-1' ? 0n : BigInt(offset);
        const distance = BigInt(end) > from ? BigInt(end) - from : 0n;
        if (distance > 0n && distance <= MARKER_SCAN_LIMIT) gaps.push({ topic, partition, from, to: BigInt(end) });
        lag.push({ topic, partition, committed: offset, end, lag: Number(distance) });
      }
    }
    // Transaction markers take offsets but are no records to process: a caught-up group shows lag 0.
    const records = await recordsBetween(kafka, gaps);
    for (const entry of lag) entry.lag = records.get(`${entry.topic}:${entry.partition}`) ?? entry.lag;
    const latest = new Map<string, RunMetrics>();
    if (existing.has(names.metrics)) {
      await readToEnd(kafka, admin, names.metrics, new Set([0]), (_partition, message) => {
        if (message.key && message.value) latest.set(message.key.toString(), JSON.parse(message.value.toString()) as RunMetrics);
      }, `dualrun-status`);
    }
    // Every process start is a new instance on the (compacted) metrics topic: show those heard from in the last hour.
    const instances = [...latest.values()].filter((m) => Date.now() - Date.parse(m.at) < 3_600_000).map((m) => ({ ...m, live: !m.stopped && Date.now() - Date.parse(m.at) < 30_000 }));
    return { group: options.group, totalLag: lag.reduce((sum, entry) => sum + entry.lag, 0), lag, instances };
  } finally {
    await admin.disconnect();
  }
}

function noSuchPrefix(prefix: string, inputs: string[], existing: ReadonlySet<string>): UsageError {
  // Other prefixes the domain's input topics exist under: topics ending as one of this prefix's do.
  const suffix = inputs[0]!.slice(prefix.length);
  const prefixes = [...existing].filter((topic) => topic.endsWith(suffix) && !topic.includes('.stream-')).map((topic) => topic.slice(0, -suffix.length)).sort();
  return new UsageError(`--topic-prefix ${prefix}: the cluster has none of the input topics ${inputs.join(', ')}`, {
    hint: prefixes.length > 0 ? `give the prefix the job runs on; input topics exist for ${prefixes.slice(0, 10).join(', ')}${prefixes.length > 10 ? ', …' : ''}` : 'no input topics exist yet: replay a scenario first (dualrun replay), or check --brokers',
  });
}

/** A group the broker does not know and that has committed nothing here never ran: its "lag" would be every input event. */
async function refuseUnknownGroup(admin: ReturnType<ReturnType<typeof createKafka>['admin']>, group: string, prefix: string): Promise<void> {
  const { groups } = await admin.describeGroups([group]);
  if (groups[0] && groups[0].state !== 'Dead') return;
  const known = (await admin.listGroups()).groups.map((entry) => entry.groupId).filter((id) => !/-reader-|^dualrun-status/.test(id)).sort();
  throw new UsageError(`--group ${group}: no consumer group of that name has run on the ${prefix}.* topics`, {
    hint: known.length > 0 ? `give the group the job runs as (--group; default dualrun-stream); groups on this cluster: ${known.slice(0, 10).join(', ')}${known.length > 10 ? ', …' : ''}` : 'no consumer group exists yet: start the job with dualrun stream run',
  });
}
