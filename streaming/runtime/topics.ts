/**
 * The topics a streaming run needs, created when missing: internal partials and changelog topics
 * (changelogs and outputs compacted, so they keep the last value per key), output, late and dead-letter
 * topics. A source entity's changelog gets as many partitions as its topic, since task N of stage one
 * writes changelog partition N; the partials topic and the outputs as many as the largest source topic.
 * Input topics normally come from the replay; if missing they are created with `partitions` so a job
 * can start before its producers.
 */
import type { Admin } from 'kafkajs';
import { UsageError } from '../../src/errors.ts';
import { createTopicsAndWait, fetchTopicOffsets } from '../../src/kafka-client.ts';
import type { DomainModel, EntityModel } from '../../src/model/domain.ts';
import type { StreamTransform, TopicNames } from '../tasks/model.ts';

const compacted = [{ name: 'cleanup.policy', value: 'compact' }];
export const keepForever = [{ name: 'retention.ms', value: '-1' }];

/** The entities the transformations read `from`. */
export function sourceEntities(domain: DomainModel, transforms: readonly StreamTransform[]): EntityModel[] {
  const names = new Set(transforms.map((transform) => transform.stream.source));
  return domain.entities.filter((entity) => names.has(entity.name));
}

/**
 * The partitions of an input topic that still hold every event ever written to them: no retention
 * (retention.ms -1), no compaction, nothing deleted from the start (low offset 0). Only such an input
 * can be a source task's changelog (source-task.ts).
 */
export async function partitionsKeepingEverything(admin: Admin, topic: string): Promise<Set<number>> {
  const { resources } = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: topic, configNames: ['retention.ms', 'cleanup.policy'] }] });
  const config = new Map((resources[0]?.configEntries ?? []).map((entry) => [entry.configName, entry.configValue]));
  if (config.get('retention.ms') !== '-1' || (config.get('cleanup.policy') ?? 'delete').includes('compact')) return new Set();
  return new Set((await fetchTopicOffsets(admin, topic)).filter(({ low }) => low === '0').map(({ partition }) => partition));
}

/** Input topics whose retention would delete events by their (event-time) timestamps: worth a warning. */
export async function inputsWithFiniteRetention(admin: Admin, names: TopicNames, domain: DomainModel): Promise<string[]> {
  const { resources } = await admin.describeConfigs({ includeSynonyms: false, resources: domain.entities.map((entity) => ({ type: 2, name: names.input(entity), configNames: ['retention.ms'] })) });
  return resources.filter((resource) => resource.configEntries.some((entry) => entry.configName === 'retention.ms' && entry.configValue !== '-1')).map((resource) => resource.resourceName);
}

export async function ensureTopics(admin: Admin, names: TopicNames, domain: DomainModel, transforms: readonly StreamTransform[], partitions: number): Promise<{ sourcePartitions: Map<string, number>; repartitionPartitions: number }> {
  const existing = new Set(await admin.listTopics());
  if (existing.has(names.perRowRepartition)) {
    throw new UsageError(
      `consumer group ${names.group} was run by dualrun 0.1, whose topic ${names.perRowRepartition} holds a contribution per source row; this version sends partial aggregates per source partition and cannot continue that group's state`,
      { hint: `start a new group (--group NAME --from-beginning): the input topics keep every event, so it recomputes every output; then delete the old group's internal topics (${names.prefix}.stream-${names.group}.*)` },
    );
  }
  const inputs = domain.entities.map((entity) => names.input(entity)).filter((topic) => !existing.has(topic));
  // Messages carry their event time as timestamp: with a finite retention.ms the broker would delete old events at once.
  if (inputs.length > 0) await create(admin, inputs.map((topic) => ({ topic, numPartitions: partitions, configEntries: keepForever })));
  const sources = sourceEntities(domain, transforms);
  const metadata = sources.length === 0 ? { topics: [] } : await admin.fetchTopicMetadata({ topics: sources.map((entity) => names.input(entity)) });
  const sourcePartitions = new Map(sources.map((entity) => [entity.name, metadata.topics.find((topic) => topic.name === names.input(entity))?.partitions.length ?? partitions]));
  const widest = Math.max(1, ...sourcePartitions.values());
  const wanted = [
    // Compacted: keyed per (transformation, output key, source partition), it is also the aggregate stage's changelog.
    { topic: names.repartition, numPartitions: widest, configEntries: compacted },
    ...sources.map((entity) => ({ topic: names.changelog(entity), numPartitions: sourcePartitions.get(entity.name)!, configEntries: compacted })),
    { topic: names.metrics, numPartitions: 1, configEntries: compacted },
    { topic: names.late, numPartitions: 1 },
    ...domain.entities.map((entity) => ({ topic: names.deadLetter(names.input(entity)), numPartitions: 1 })),
    ...transforms.map((transform) => ({ topic: names.output(transform.name), numPartitions: widest, configEntries: compacted })),
  ].filter(({ topic }) => !existing.has(topic));
  if (wanted.length > 0) await create(admin, wanted);
  const repartition = await admin.fetchTopicMetadata({ topics: [names.repartition] });
  return { sourcePartitions, repartitionPartitions: repartition.topics[0]?.partitions.length ?? widest };
}

async function create(admin: Admin, topics: { topic: string; numPartitions: number; configEntries?: { name: string; value: string }[] }[]): Promise<void> {
  // Waits for leaders and retries what a busy broker answers transiently; another instance creating the same topics is fine.
  await createTopicsAndWait(admin, topics);
}
