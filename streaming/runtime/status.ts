/**
 * `dualrun stream status`: lag per partition of the job's consumer group (committed offset vs end
 * offset, from the broker) and the last figures each instance published on the metrics topic.
 */
import '../../src/kafkajs-fixes.ts';
import { randomUUID } from 'node:crypto';
import type { DomainModel } from '../../src/model/domain.ts';
import { TopicNames } from '../tasks/model.ts';
import { readToEnd } from './reader.ts';
import type { RunMetrics } from './runner.ts';
import { createKafka, fetchTopicOffsets } from '../../src/kafka-client.ts';

export interface StreamStatus {
  group: string;
  totalLag: number;
  lag: { topic: string; partition: number; committed: string; end: string; lag: number }[];
  instances: (RunMetrics & { live: boolean })[];
}

export async function readStatus(options: { domain: DomainModel; brokers: string[]; group: string; topicPrefix: string }): Promise<StreamStatus> {
  const kafka = createKafka({ clientId: `dualrun-status-${randomUUID().slice(0, 6)}`, brokers: options.brokers });
  const names = new TopicNames(options.topicPrefix, options.group);
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const topics = [...options.domain.entities.map((entity) => names.input(entity)), names.repartition].filter((topic) => existing.has(topic));
    const lag: StreamStatus['lag'] = [];
    for (const { topic, partitions } of await admin.fetchOffsets({ groupId: options.group, topics })) {
      const ends = new Map((await fetchTopicOffsets(admin, topic)).map(({ partition, offset }) => [partition, offset]));
      for (const { partition, offset } of partitions) {
        const end = ends.get(partition) ?? '0';
        const from = offset === '-1' ? 0n : BigInt(offset);
        lag.push({ topic, partition, committed: offset, end, lag: Number(BigInt(end) > from ? BigInt(end) - from : 0n) });
      }
    }
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
