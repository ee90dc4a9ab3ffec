/**
 * The streaming runner: one consumer group member reading the input topics and the partials topic
 * with `eachBatch`, one task per partition (a source entity's topic → SourceTask, partials →
 * AggregateTask, other entity topics → dead-letter check only), all tasks of the process sharing the
 * global tables and watermarks (SharedState, fed by a TopicReader over every input partition).
 *
 * Exactly-once in effect: each task has its own transactional producer (transactionalId =
 * `dualrun-<group>-<topic>-<partition>`, because kafkajs commits transactional offsets with the old
 * protocol, which cannot fence a zombie by group generation — a per-partition id fences the previous
 * owner instead). A batch's outputs, repartition records, changelog records, dead letters, late
 * records and the input offsets go in one transaction; consumers read committed only. A task's state
 * is restored when the partition is assigned (source tasks from their changelog partition and, when
 * their input keeps every event, that input read again up to the committed offset (source-task.ts);
 * aggregate tasks from their compacted repartition partition), after its producer has fenced any
 * previous owner (so no open transaction hides the tail of the changelog). If a batch fails, the task
 * is thrown away and restored again, so memory never runs ahead of what committed.
 */
import { inactiveKafkajsFixes } from '../../src/kafkajs-fixes.ts';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Partitioners, type Admin, type Consumer, type Kafka, type Producer } from 'kafkajs';
import { UnavailableError, UsageError, messageOf } from '../../src/errors.ts';
import type { Logger } from '../../src/logger.ts';
import { decode, type RawMessage } from '../../src/model/codec.ts';
import type { DomainModel, EntityModel } from '../../src/model/domain.ts';
import { AggregateTask } from '../tasks/aggregate-task.ts';
import { TopicNames, deadLetter, type OutRecord, type StreamTransform } from '../tasks/model.ts';
import { SourceTask } from '../tasks/source-task.ts';
import { SharedState } from '../tasks/tables.ts';
import { ensureTopics, inputsWithFiniteRetention, partitionsKeepingEverything } from './topics.ts';
import { TopicReader, readToEnd } from './reader.ts';
import type { OutputSink } from './sink.ts';
import { createKafka, fetchTopicOffsets } from '../../src/kafka-client.ts';

export interface StreamRunOptions {
  /** The domain whose entity topics are the input. */
  domain: DomainModel;
  brokers: string[];
  group: string;
  topicPrefix: string;
  transforms: readonly StreamTransform[];
  fromBeginning: boolean;
  /** Stop once every input partition of the group is committed to its end and nothing arrived for this long. */
  untilIdleMs?: number;
  /** Partitions for input topics the runner has to create. */
  partitions?: number;
  /** How long the group waits for a silent member before it hands its partitions to the others (kafkajs's default, 30 s). */
  sessionTimeoutMs?: number;
  sink?: OutputSink;
  logger: Logger;
  metricsIntervalMs?: number;
  onMetrics?: (metrics: RunMetrics) => void;
}

export interface RunMetrics {
  instance: string;
  group: string;
  at: string;
  processed: number;
  eventsPerSecond: number;
  duplicates: number;
  deadLetters: number;
  late: number;
  transactions: number;
  /** Records written (outputs, changelog, repartition, dead letters, late) and their key + value bytes. */
  recordsSent: number;
  bytesSent: number;
  partitions: string[];
  /** Set on the last report of an instance that stopped cleanly. */
  stopped: boolean;
  /** When the first batch started and the last transaction committed (ISO; null before any). */
  firstBatchAt: string | null;
  lastCommitAt: string | null;
  rssBytes: number;
  /** Where the resident memory is: V8's heap (in use, and reserved), and Buffers / ArrayBuffers outside it. */
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
  state: Record<string, number>;
}

type Task = {
  topic: string;
  partition: number;
  producer: Producer;
  ready: Promise<void>;
  /** Whether `ready` has settled (restored, or failed to): a batch waits, heartbeating, only while it has not. */
  settled: boolean;
  /** The first input offset not yet committed: earlier ones are in the state and outputs already. */
  nextOffset: bigint;
  /** The task's work in order: a batch, or a commit past transaction markers (one producer, one transaction at a time). */
  queue: Promise<void>;
} & ({ kind: 'source'; state: SourceTask } | { kind: 'aggregate'; state: AggregateTask } | { kind: 'table'; entity: EntityModel });

export class StreamRunner {
  readonly names: TopicNames;
  readonly instance = `${hostname()}-${process.pid}-${randomUUID().slice(0, 6)}`;
  private readonly kafka: Kafka;
  private admin!: Admin;
  private consumer!: Consumer;
  private metricsProducer!: Producer;
  private reader!: TopicReader;
  private readonly shared: SharedState;
  private readonly tasks = new Map<string, Task>();
  private repartitionPartitions = 1;
  private readonly entityOfTopic = new Map<string, EntityModel>();
  private readonly sources: Set<string>;
  private readonly totals = { processed: 0, duplicates: 0, deadLetters: 0, late: 0, transactions: 0, recordsSent: 0, bytesSent: 0 };
  private lastActivity = Date.now();
  private timers: NodeJS.Timeout[] = [];
  private stopping: Promise<void> | undefined;
  private finished!: () => void;
  /** Resolves when the runner has stopped (SIGTERM, stop(), or --until-idle). */
  readonly done = new Promise<void>((resolve) => (this.finished = resolve));

  constructor(private readonly options: StreamRunOptions) {
    this.names = new TopicNames(options.topicPrefix, options.group);
    this.kafka = createKafka({ clientId: `dualrun-stream-${options.group}`, brokers: options.brokers });
    for (const entity of options.domain.entities) this.entityOfTopic.set(this.names.input(entity), entity);
    this.shared = new SharedState(options.domain, options.transforms);
    this.sources = new Set(options.transforms.map((transform) => transform.stream.source));
  }

  /** Connects, creates the job's topics, joins the group and starts consuming. */
  start(): Promise<void> {
    this.starting ??= this.connectAndRun();
    return this.starting;
  }

  private starting: Promise<void> | undefined;

  private async connectAndRun(): Promise<void> {
    const { logger } = this.options;
    const inactive = inactiveKafkajsFixes();
    if (inactive.length > 0) logger.warn({ inactive }, 'kafkajs was loaded before src/kafkajs-fixes.ts: read_committed may leak aborted records and large batches produce slowly');
    this.admin = this.kafka.admin();
    try {
      await this.admin.connect();
    } catch (error) {
      throw new UnavailableError(`kafka ${this.options.brokers.join(',')}`, `cannot reach the Kafka brokers: ${messageOf(error)}`, { cause: error, hint: 'start one with dualrun kafka start, or pass --brokers / KAFKA_BROKERS' });
    }
    ({ repartitionPartitions: this.repartitionPartitions } = await ensureTopics(this.admin, this.names, this.options.domain, this.options.transforms, this.options.partitions ?? 4));
    const finite = await inputsWithFiniteRetention(this.admin, this.names, this.options.domain).catch(() => []);
    if (finite.length > 0) {
      logger.warn({ topics: finite }, 'input topics have a finite retention.ms while their timestamps are event times: old events may be deleted before they are read; create them with retention.ms=-1');
    }
    this.metricsProducer = this.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await this.metricsProducer.connect();

    const inputTopics = this.options.domain.entities.map((entity) => this.names.input(entity));
    this.reader = new TopicReader(this.kafka, this.admin, inputTopics, (topic, _partition, messages) => {
      const entity = this.entityOfTopic.get(topic)!;
      for (const message of messages) this.shared.observe(entity, message);
    }, `dualrun-${this.options.group}`);
    await this.reader.start();

    this.consumer = this.kafka.consumer({ groupId: this.options.group, readUncommitted: false, maxBytesPerPartition: 4 << 20, maxWaitTimeInMs: 200, ...sessionSettings(this.options.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS), rebalanceTimeout: 60_000 });
    // A rebalance is activity for --until-idle: a member stopping because the group was quiet while
    // another (re)joins would leave it to hold every partition, or nobody, just as work resumes.
    this.consumer.on(this.consumer.events.REBALANCING, () => this.markActive());
    this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => {
      this.markActive();
      this.assign(payload.memberId, payload.memberAssignment);
    });
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      logger.error({ error: payload.error.message, restart: payload.restart }, 'stream consumer crashed');
      if (!payload.restart) {
        // kafkajs gives up on this consumer: stop rather than hang, and say why.
        this.failure = payload.error;
        void this.stop();
      }
    });
    // kafkajs never hands eachBatch a fetch that holds only transaction markers (or aborted records):
    // the offset is committed past them here, else a transactionally written input stays one offset
    // behind its end for good (lag never 0, --until-idle never stops).
    this.consumer.on(this.consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      // Input topics only: the partials topic always ends in a marker (stage one writes it in
      // transactions), and a transaction per marker there would double stage two's commits for nothing.
      if (payload.batchSize > 0 || this.stopping || payload.topic === this.names.repartition) return;
      const task = this.tasks.get(`${payload.topic}:${payload.partition}`) ?? this.createTask(payload.topic, payload.partition);
      this.inTurn(task, () => this.commitPast(task, BigInt(payload.lastOffset) + 1n)).catch((error: unknown) => {
        logger.warn({ topic: task.topic, partition: task.partition, error: messageOf(error) }, 'commit past transaction markers failed; the next batch commits past them');
        void this.dropTask(task);
      });
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: inputTopics, fromBeginning: this.options.fromBeginning });
    // Internal: stage two must see everything stage one ever committed.
    await this.consumer.subscribe({ topics: [this.names.repartition], fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 16,
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        if (batch.messages.length === 0) return;
        this.firstBatchAt ??= Date.now();
        const task = this.tasks.get(`${batch.topic}:${batch.partition}`) ?? this.createTask(batch.topic, batch.partition);
        // Outside the try: a rebalance reported meanwhile leaves the restoring task as it is.
        await this.heartbeatUntilReady(task, heartbeat);
        try {
          // The batch's last offset may be a transaction marker after its last message: committed too.
          await this.inTurn(task, () => this.processBatch(task, batch.messages, BigInt(batch.lastOffset()) + 1n));
        } catch (error) {
          // Memory may be ahead of what committed: restore this task again on the next batch.
          logger.warn({ topic: batch.topic, partition: batch.partition, error: messageOf(error) }, 'batch failed; task will be restored');
          await this.dropTask(task);
          if (error instanceof UsageError) {
            // A refusal (a task that cannot be restored as it must be): trying again cannot help.
            this.failure = error;
            void this.stop();
            return;
          }
          if (!isFenced(error)) throw error;
          // Another process has fenced this partition's producer: it owns the partition now, and this
          // process missed a rebalance or was out of the group (its session expired while it was
          // paused). kafkajs crashes for good on a fenced producer; it rejoins on the group's answer to
          // a heartbeat instead (a new member id once expired), or on a rebalance error.
          await heartbeat();
          throw Object.assign(new Error(`the producer of ${batch.topic}[${batch.partition}] was fenced by another process: rejoining the group`, { cause: error }), { type: 'REBALANCE_IN_PROGRESS', retriable: true });
        }
        // Committed: a rebalance reported by the heartbeat leaves the task as it is.
        resolveOffset(batch.lastOffset());
        await heartbeat();
      },
    });
    // The consumer may already have crashed (a session timeout the broker refuses): no timers to keep a stopped process alive.
    if (this.stopping) return;
    const interval = this.options.metricsIntervalMs ?? 10_000;
    this.timers.push(setInterval(() => void this.reportMetrics(interval).catch(() => undefined), interval));
    if (this.options.untilIdleMs !== undefined) this.timers.push(setInterval(() => void this.checkIdle().catch(() => undefined), this.idleCheckEveryMs));
    logger.info({ group: this.options.group, instance: this.instance }, 'stream runner started');
  }

  /** Finishes the batch in flight, commits it, leaves the group and disconnects. Safe to call twice. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      // Stopped while starting (a signal during the group join): what start creates is stopped too, not left running.
      await this.starting?.catch(() => undefined);
      for (const timer of this.timers) clearInterval(timer);
      await this.consumer?.disconnect();
      this.stopped = true;
      await this.reportMetrics(0).catch(() => undefined);
      this.finalMetrics = this.metrics();
      const tasks = [...this.tasks.values()];
      this.tasks.clear();
      await Promise.all(tasks.map((task) => this.closeTask(task)));
      await this.reader?.stop();
      await this.metricsProducer?.disconnect();
      await this.admin?.disconnect();
      this.finished();
    })();
    return this.stopping;
  }

  private stopped = false;
  /** Set when the consumer crashed for good; the CLI exits non-zero with it. */
  failure: Error | undefined;
  private firstBatchAt: number | undefined;
  private lastCommitAt: number | undefined;
  private finalMetrics: RunMetrics | undefined;

  metrics(intervalMs = 0, previousProcessed = this.totals.processed): RunMetrics {
    if (this.finalMetrics) return this.finalMetrics;
    // contributions: per source row and output key, in stage one; aggregateKeys: output keys, in stage two.
    const state: Record<string, number> = { ...this.shared.size, keys: 0, eventIds: 0, contributions: 0, aggregateKeys: 0, partials: 0 };
    for (const task of this.tasks.values()) {
      if (task.kind === 'source') {
        const size = task.state.size;
        state.keys! += size.keys;
        state.eventIds! += size.eventIds;
        state.contributions! += size.contributions;
      } else if (task.kind === 'aggregate') {
        state.aggregateKeys! += task.state.size.keys;
        state.partials! += task.state.size.partials;
      }
    }
    return {
      instance: this.instance,
      group: this.options.group,
      at: new Date().toISOString(),
      ...this.totals,
      eventsPerSecond: intervalMs > 0 ? Math.round(((this.totals.processed - previousProcessed) * 1000) / intervalMs) : 0,
      partitions: [...this.tasks.keys()].sort(),
      stopped: this.stopped,
      firstBatchAt: this.firstBatchAt === undefined ? null : new Date(this.firstBatchAt).toISOString(),
      lastCommitAt: this.lastCommitAt === undefined ? null : new Date(this.lastCommitAt).toISOString(),
      ...memory(),
      state,
    };
  }

  private lastReportedProcessed = 0;
  private async reportMetrics(intervalMs: number): Promise<void> {
    const metrics = this.metrics(intervalMs, this.lastReportedProcessed);
    this.lastReportedProcessed = this.totals.processed;
    this.options.logger.info({ metrics }, 'stream metrics');
    this.options.onMetrics?.(metrics);
    await this.metricsProducer.send({ topic: this.names.metrics, messages: [{ key: this.instance, value: JSON.stringify(metrics) }] });
  }

  private memberId: string | undefined;

  private assign(memberId: string, assignment: Record<string, number[]>): void {
    const assigned = new Set(Object.entries(assignment).flatMap(([topic, partitions]) => partitions.map((partition) => `${topic}:${partition}`)));
    // A new member id: this process was out of the group (its session expired), and another may have
    // processed its partitions meanwhile, so no task state of before can be trusted; all are rebuilt.
    const rejoined = this.memberId !== undefined && this.memberId !== memberId;
    this.memberId = memberId;
    if (rejoined) this.options.logger.warn({ memberId, dropped: [...this.tasks.keys()] }, 'rejoined the group as a new member (the session expired): every task is dropped and restored');
    for (const [id, task] of this.tasks) if (rejoined || !assigned.has(id)) void this.dropTask(task);
    // Restore every newly assigned partition now, all of them in one pass per changelog, so the first batch finds them ready.
    const fresh: { topic: string; partition: number }[] = [];
    for (const id of assigned) {
      const separator = id.lastIndexOf(':');
      if (!this.tasks.has(id)) fresh.push({ topic: id.slice(0, separator), partition: Number(id.slice(separator + 1)) });
    }
    if (fresh.length > 0) this.createTasks(fresh);
  }

  private createTask(topic: string, partition: number): Task {
    return this.createTasks([{ topic, partition }])[0]!;
  }

  private createTasks(wanted: { topic: string; partition: number }[]): Task[] {
    const tasks = wanted.map(({ topic, partition }): Task => {
      const producer = this.kafka.producer({
        transactionalId: `dualrun-${this.options.group}-${topic}-${partition}`,
        idempotent: true,
        maxInFlightRequests: 1,
        transactionTimeout: 60_000,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      const entity = this.entityOfTopic.get(topic);
      const base = { topic, partition, producer, ready: Promise.resolve(), settled: false, nextOffset: 0n, queue: Promise.resolve() };
      if (topic === this.names.repartition) return { ...base, kind: 'aggregate', state: new AggregateTask(this.options.transforms, this.names) };
      if (entity && this.sources.has(entity.name)) return { ...base, kind: 'source', state: new SourceTask(this.options.domain, entity, this.options.transforms, this.shared.env, this.names, this.repartitionPartitions) };
      return { ...base, kind: 'table', entity: entity! };
    });
    const ready = this.prepare(tasks);
    const settle = () => {
      for (const task of tasks) task.settled = true;
    };
    ready.then(settle, settle); // a failure is surfaced to the batches that await `ready`
    for (const task of tasks) {
      task.ready = ready;
      this.tasks.set(`${task.topic}:${task.partition}`, task);
    }
    return tasks;
  }

  /**
   * Connects each producer and fences the partition's previous owner (initTransactions aborts its open
   * transaction, so nothing uncommitted hides the changelog's tail), then restores the changelogs.
   */
  private async prepare(tasks: Task[]): Promise<void> {
    await Promise.all(
      tasks.map(async (task) => {
        await task.producer.connect();
        const fence = await task.producer.transaction();
        await fence.abort();
      }),
    );
    await this.readCommittedOffsets(tasks);
    // Source tasks restore their entity's changelog; aggregate tasks replay the compacted partials topic.
    const stores: { changelog: string; tasks: Task[] }[] = [];
    for (const entity of this.options.domain.entities) {
      const owned = tasks.filter((task) => task.kind === 'source' && task.state.entity === entity);
      if (owned.length > 0) stores.push({ changelog: this.names.changelog(entity), tasks: owned });
    }
    const aggregates = tasks.filter((task) => task.kind === 'aggregate');
    if (aggregates.length > 0) stores.push({ changelog: this.names.repartition, tasks: aggregates });
    for (const store of stores) {
      const byPartition = new Map(store.tasks.map((task) => [task.partition, task]));
      const started = Date.now();
      const restored = await readToEnd(this.kafka, this.admin, store.changelog, new Set(byPartition.keys()), (partition, message) => {
        const task = byPartition.get(partition);
        if (task?.kind === 'source') task.state.restore(message.key!.toString(), message.value === null ? null : message.value.toString());
        else if (task?.kind === 'aggregate') task.state.restore(message);
      }, `dualrun-${this.options.group}`);
      if (store.tasks[0]?.kind === 'source') {
        // Contributions are recomputed from the restored states, or the input read again, with table lookups that need the tables caught up.
        await this.reader.catchUp();
        await this.restoreSources(store.tasks.filter((task): task is Task & { kind: 'source' } => task.kind === 'source'));
      }
      this.options.logger.info({ changelog: store.changelog, partitions: [...byPartition.keys()], restored, ms: Date.now() - started }, 'task state restored');
    }
  }

  /**
   * Finishes the restore of source tasks of one entity whose changelog partitions were read: from the
   * states they held, or, for a task whose state lives in its input, by reading the input again up to
   * the committed offset with the late decisions the changelog kept (source-task.ts).
   */
  private async restoreSources(tasks: (Task & { kind: 'source' })[]): Promise<void> {
    if (tasks.length === 0) return;
    const topic = tasks[0]!.topic;
    const keeping = await partitionsKeepingEverything(this.admin, topic);
    const rereads = new Map<number, Task & { kind: 'source' }>();
    for (const task of tasks) {
      const stateIn = task.state.decideStateIn(task.nextOffset, keeping.has(task.partition));
      if (stateIn === 'refused') {
        throw new UsageError(`input topic ${topic}[${task.partition}] no longer holds every event (its retention.ms, cleanup.policy or deleted records changed), and consumer group ${this.options.group} keeps its state in it: restoring would miss what was deleted`, {
          hint: `keep every event again (kafka-configs --alter --entity-type topics --entity-name ${topic} --add-config retention.ms=-1, cleanup.policy=delete), or start a new group with --from-beginning`,
        });
      }
      if (stateIn === 'states') task.state.finishRestore();
      else if (task.nextOffset > 0n) rereads.set(task.partition, task);
    }
    if (rereads.size === 0) return;
    const started = Date.now();
    const committed = new Map([...rereads].map(([partition, task]) => [partition, task.nextOffset]));
    const read = await readToEnd(this.kafka, this.admin, topic, new Set(rereads.keys()), (partition, message) => rereads.get(partition)!.state.replay(message), `dualrun-${this.options.group}`, committed);
    for (const task of rereads.values()) task.state.finishReplay();
    this.options.logger.info({ topic, partitions: [...rereads.keys()], read, ms: Date.now() - started }, 'task state restored from the input (its changelog)');
  }

  /**
   * Where each task's input was committed, read after the fence (which waits until the previous
   * owner's last transaction completed, offsets included). kafkajs may hand a task a batch again that
   * already committed — it refetches from its own position after an error, or from a committed offset
   * read before the transaction's markers landed — and such messages must not be processed twice
   * (their dead letters and late records would be written again).
   */
  private async readCommittedOffsets(tasks: Task[]): Promise<void> {
    const topics = [...new Set(tasks.map((task) => task.topic))];
    const committed = new Map<string, bigint>();
    for (const { topic, partitions } of await this.admin.fetchOffsets({ groupId: this.options.group, topics })) {
      for (const { partition, offset } of partitions) if (offset !== '-1') committed.set(`${topic}:${partition}`, BigInt(offset));
    }
    for (const task of tasks) task.nextOffset = committed.get(`${task.topic}:${task.partition}`) ?? 0n;
  }

  private async dropTask(task: Task): Promise<void> {
    const id = `${task.topic}:${task.partition}`;
    if (this.tasks.get(id) === task) this.tasks.delete(id);
    await this.closeTask(task);
  }

  /**
   * Disconnects a task's producer once its preparation has settled: a producer still connecting when
   * disconnect is called would finish connecting afterwards, and its open socket would keep a stopped
   * process alive (seen when the job stopped right after a rebalance handed it new partitions).
   */
  private async closeTask(task: Task): Promise<void> {
    await task.ready.catch(() => undefined);
    await task.queue.catch(() => undefined);
    await task.producer.disconnect().catch(() => undefined);
  }

  /**
   * Waits for a task's restore, heartbeating meanwhile: kafkajs heartbeats only between batches and
   * when told to, and reading a large input again takes longer than a session (a member that stopped
   * heartbeating is expired, rejoins, and restores everything again).
   */
  private async heartbeatUntilReady(task: Task, heartbeat: () => Promise<void>): Promise<void> {
    const { heartbeatInterval } = sessionSettings(this.options.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS);
    while (!task.settled) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([task.ready.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, heartbeatInterval)))]);
      clearTimeout(timer);
      if (!task.settled) await heartbeat();
    }
  }

  /** Runs `work` after the task is ready and its earlier work has settled. */
  private inTurn(task: Task, work: () => Promise<void>): Promise<void> {
    const turn = task.queue.then(() => task.ready).then(work);
    task.queue = turn.catch(() => undefined);
    return turn;
  }

  /** Commits the input offset `next` in a transaction of offsets alone, when only markers lie below it. */
  private async commitPast(task: Task, next: bigint): Promise<void> {
    if (next > task.nextOffset) await this.commit(task, [], next);
  }

  /** One transaction: `records`, then the task's input offset `next`; the task's next offset once committed. */
  private async commit(task: Task, records: OutRecord[], next: bigint): Promise<void> {
    const transaction = await task.producer.transaction();
    try {
      // Chunks of ≤ ~512 KB: a partition's records in one request form one record batch, which the
      // broker refuses above message.max.bytes (1 MB by default).
      for (const chunk of chunkRecords(records, 512 * 1024)) await transaction.sendBatch({ acks: -1, topicMessages: chunk });
      await transaction.sendOffsets({ consumerGroupId: this.options.group, topics: [{ topic: task.topic, partitions: [{ partition: task.partition, offset: next.toString() }] }] });
      await transaction.commit();
    } catch (error) {
      await transaction.abort().catch(() => undefined);
      throw error;
    }
    task.nextOffset = next;
  }

  /** `upTo`: the offset after the fetch's last record, which may be a transaction marker after the last message. */
  private async processBatch(task: Task, batch: (RawMessage & { offset: string })[], upTo: bigint): Promise<void> {
    // Offsets ascend in a batch: only one that starts below the committed offset needs looking through.
    const messages = BigInt(batch[0]!.offset) >= task.nextOffset ? batch : batch.filter((message) => BigInt(message.offset) >= task.nextOffset);
    if (messages.length < batch.length) {
      this.options.logger.warn({ topic: task.topic, partition: task.partition, skipped: batch.length - messages.length, committedUpTo: task.nextOffset.toString() }, 'skipped messages of a batch that already committed');
    }
    if (messages.length === 0) return;
    let records: OutRecord[];
    let counters = { duplicates: 0, deadLetters: 0, late: 0 };
    if (task.kind === 'source') {
      await this.reader.catchUp();
      ({ records, counters } = task.state.process(task.topic, task.partition, messages));
    } else if (task.kind === 'aggregate') {
      records = task.state.process(messages).records;
    } else {
      records = [];
      for (const message of messages) {
        const decoded = decode(this.options.domain, task.entity, message);
        if (!decoded.ok) records.push(deadLetter(this.names, { topic: task.topic, partition: task.partition, offset: message.offset }, message, decoded.reason));
      }
      counters.deadLetters = records.length;
    }
    // A sink is written before the commit: a crash between the two recomputes the same rows.
    if (this.options.sink) await this.options.sink.write(records);
    const afterLast = BigInt(messages[messages.length - 1]!.offset) + 1n;
    const nextOffset = upTo > afterLast ? upTo : afterLast;
    await this.commit(task, records, nextOffset);
    // Counted once committed: a batch that failed and is processed again counts once.
    this.totals.duplicates += counters.duplicates;
    this.totals.deadLetters += counters.deadLetters;
    this.totals.late += counters.late;
    this.totals.transactions += 1;
    this.totals.recordsSent += records.length;
    for (const record of records) this.totals.bytesSent += record.key.length + (record.value?.length ?? 0);
    this.lastCommitAt = Date.now();
    if (task.kind !== 'aggregate') this.totals.processed += messages.length;
    this.lastActivity = Date.now();
  }

  private caughtUpSince: number | undefined;
  private lastIdleCheck: number | undefined;
  /** How often --until-idle looks: every second, or every idle period when that is shorter. */
  private get idleCheckEveryMs(): number {
    return Math.min(1000, this.options.untilIdleMs!);
  }
  private markActive(): void {
    this.lastActivity = Date.now();
    this.caughtUpSince = undefined;
  }
  /** --until-idle: every input partition of the group committed to its end, and nothing processed, for the idle period. */
  private async checkIdle(): Promise<void> {
    if (this.stopping) return;
    // Idle must be seen, not slept through: a process that was frozen (SIGSTOP, a paused VM) between
    // two checks has not watched the group meanwhile, and may be out of it; it starts counting again.
    const started = Date.now();
    const frozen = this.lastIdleCheck !== undefined && started - this.lastIdleCheck > 5000 + this.idleCheckEveryMs * 2;
    this.lastIdleCheck = started;
    if (frozen) return this.markActive();
    const topics = this.options.domain.entities.map((entity) => this.names.input(entity));
    const committed = await this.admin.fetchOffsets({ groupId: this.options.group, topics });
    let caughtUp = true;
    for (const { topic, partitions } of committed) {
      const ends = new Map((await fetchTopicOffsets(this.admin, topic)).map(({ partition, offset }) => [partition, BigInt(offset)]));
      for (const { partition, offset } of partitions) {
        const end = ends.get(partition) ?? 0n;
        if (end > 0n && BigInt(offset) < end) caughtUp = false;
      }
    }
    const now = Date.now();
    if (!caughtUp) {
      this.caughtUpSince = undefined;
      return;
    }
    this.caughtUpSince ??= now;
    const idleFor = this.options.untilIdleMs!;
    if (now - this.caughtUpSince >= idleFor && now - this.lastActivity >= idleFor) {
      this.options.logger.info({ idleMs: idleFor }, 'caught up and idle: stopping');
      void this.stop();
    }
  }
}

/** The protocol error type kafkajs reports, on the error or on one it wraps. */
export function kafkaErrorType(error: unknown): string | undefined {
  for (let cause = error as { type?: unknown; cause?: unknown } | undefined; cause; cause = cause.cause as typeof cause) {
    if (typeof cause.type === 'string') return cause.type;
  }
  return undefined;
}

/** Whether the producer's transactional id now belongs to a newer producer (another process fenced it). */
function isFenced(error: unknown): boolean {
  const type = kafkaErrorType(error);
  return type === 'INVALID_PRODUCER_EPOCH' || type === 'PRODUCER_FENCED';
}

/** kafkajs's default session timeout. */
export const DEFAULT_SESSION_TIMEOUT_MS = 30_000;

/** The session timeout and a heartbeat interval well inside it (kafkajs's default 3 s, a third of a shorter session). */
function sessionSettings(sessionTimeout: number): { sessionTimeout: number; heartbeatInterval: number } {
  return { sessionTimeout, heartbeatInterval: Math.max(1, Math.min(3000, Math.floor(sessionTimeout / 3))) };
}

type WireMessage = { key: string; value: string | null; partition?: number; headers?: Record<string, string> };

/** A record's size on the wire, near enough: its key, value and headers in bytes, plus the record's own fields. */
export function recordSize(record: OutRecord): number {
  let size = Buffer.byteLength(record.key) + (record.value === null ? 0 : Buffer.byteLength(record.value)) + 64;
  // Late records and dead letters carry several headers: left out, a batch of small ones was
  // estimated at a third of its size and went over the broker's message.max.bytes.
  if (record.headers) for (const name in record.headers) size += Buffer.byteLength(name) + Buffer.byteLength(record.headers[name]!) + 8;
  return size;
}

/** Splits a transaction's records into sends of at most `maxBytes` each (by recordSize), keeping their order. */
export function chunkRecords(records: OutRecord[], maxBytes: number): { topic: string; messages: WireMessage[] }[][] {
  const chunks: Map<string, WireMessage[]>[] = [];
  let current = new Map<string, WireMessage[]>();
  let bytes = 0;
  for (const record of records) {
    const size = recordSize(record);
    if (bytes + size > maxBytes && bytes > 0) {
      chunks.push(current);
      current = new Map();
      bytes = 0;
    }
    let list = current.get(record.topic);
    if (!list) current.set(record.topic, (list = []));
    const message: WireMessage = { key: record.key, value: record.value };
    if (record.partition !== undefined) message.partition = record.partition;
    if (record.headers) message.headers = record.headers;
    list.push(message);
    bytes += size;
  }
  if (bytes > 0) chunks.push(current);
  return chunks.map((chunk) => [...chunk].map(([topic, messages]) => ({ topic, messages })));
}

function memory(): Pick<RunMetrics, 'rssBytes' | 'heapUsedBytes' | 'heapTotalBytes' | 'externalBytes'> {
  const usage = process.memoryUsage();
  return { rssBytes: usage.rss, heapUsedBytes: usage.heapUsed, heapTotalBytes: usage.heapTotal, externalBytes: usage.external };
}
