/**
 * Starting and stopping change data capture of a domain's legacy tables, for `dualrun cdc` and for the
 * dual run (`demo --source cdc`): check the database can be captured, create the change topics, start a
 * Connect worker (unless CONNECT_URL names a cluster), register the connector and wait until its
 * snapshot is read; and undo all of it — worker, connector, replication slot — leaving nothing behind.
 */
import { rm } from 'node:fs/promises';
import type { DomainModel } from '../../src/model/domain.ts';
import { connectKnex, redactUrl } from '../../src/db.ts';
import { SchemaError, UnavailableError } from '../../src/errors.ts';
import { createKafka, createTopicsAndWait, fetchTopicOffsets } from '../../src/kafka-client.ts';
import type { Logger } from '../../src/logger.ts';
import { createDomainSchema, missingTables } from '../../src/replay/schema.ts';
import { stopProcess } from '../broker/local-kafka.ts';
import { planConnector, type ConnectorPlan } from './connector.ts';
import { checkCaptureReady, dropSlot } from './database.ts';
import { startLocalConnect } from './local-connect.ts';
import { CONNECT_VERSION } from './provision.ts';
import { connectorStatus, deleteConnector, failureOf, putConnector } from './rest.ts';
import { workerAlive, type CdcState } from './state.ts';

export interface StartCaptureOptions {
  domain: DomainModel;
  databaseUrl: string;
  brokers: string[];
  topicPrefix: string;
  partitions: number;
  cacheDir: string;
  /** An existing Connect cluster's REST API; undefined: a local worker. */
  connectUrl: string | undefined;
  createSchema: boolean;
  heap?: string;
  /** The data folder of this capture's worker that died: resume from its offsets (and the slot). */
  resumeFrom?: string;
  logger: Logger;
  progress: (text: string) => void;
  /** Told what runs as soon as the worker is up, before the snapshot is waited for: a caller killed meanwhile can be cleaned up after. */
  onStarted?: (state: CdcState) => Promise<void>;
}

export async function startCapture(options: StartCaptureOptions): Promise<CdcState> {
  const { domain, databaseUrl, brokers, topicPrefix, partitions } = options;
  const plan = planConnector({ domain, databaseUrl, topicPrefix, partitions, brokers });
  const db = await connectKnex(databaseUrl);
  try {
    await checkCaptureReady(db, plan.kind, databaseUrl);
    if (options.createSchema) await createDomainSchema(db, domain);
    const missing = await missingTables(db, domain);
    if (missing.length > 0) {
      throw new SchemaError(missing[0]!, `the legacy database ${redactUrl(databaseUrl)} has no table ${missing.join(', ')}: there is nothing to capture`, {
        hint: 'point --db at the legacy database, or pass --create-schema to create the missing tables in a fresh one',
      });
    }
  } finally {
    await db.destroy();
  }
  await createChangeTopics(plan, brokers, partitions);
  if (!options.connectUrl) options.progress(`cdc: starting Kafka Connect ${CONNECT_VERSION} with Debezium…`);
  const worker = options.connectUrl
    ? undefined
    : await startLocalConnect({ cacheDir: options.cacheDir, brokers, kinds: [plan.kind], logger: options.logger, ...(options.heap ? { heap: options.heap } : {}), ...(options.resumeFrom ? { resumeFrom: options.resumeFrom } : {}) });
  const restUrl = options.connectUrl ?? worker!.restUrl;
  const { config, ...connector } = plan;
  const state: CdcState = {
    topicPrefix,
    restUrl,
    ...(worker ? { worker: { restUrl: worker.restUrl, pid: worker.pid, dataDir: worker.dataDir, logPath: worker.logPath, startedAt: worker.startedAt } } : {}),
    connector,
    databaseUrl,
    brokers,
    startedAt: new Date().toISOString(),
  };
  try {
    await options.onStarted?.(state);
    await putConnector(restUrl, plan.name, config);
    options.progress(`cdc: connector ${plan.name} registered; reading the snapshot of ${Object.keys(plan.topics).join(', ')}…`);
    await waitUntilStreaming(restUrl, plan, brokers, worker?.logPath);
  } catch (error) {
    // Leave nothing half-started: no worker, no connector, no slot (a resumed capture keeps its slot and offsets).
    await stopCapture(state, { keepSlot: Boolean(options.resumeFrom), keepData: Boolean(options.resumeFrom), logger: options.logger }).catch(() => undefined);
    throw error;
  }
  return state;
}

/** Stops what a capture left running (worker or connector) and drops its slot unless kept. */
export async function stopCapture(state: CdcState, { keepSlot, keepData = false, logger }: { keepSlot: boolean; keepData?: boolean; logger: Logger }): Promise<void> {
  if (state.worker) {
    if (workerAlive(state.worker)) await stopProcess(state.worker.pid);
    if (!keepData && state.worker.dataDir.includes('dualrun-connect-')) await rm(state.worker.dataDir, { recursive: true, force: true });
  } else {
    await deleteConnector(state.restUrl, state.connector.name).catch((error: unknown) => logger.warn({ error }, 'could not remove the connector'));
  }
  if (state.connector.slot && !keepSlot) {
    const db = await connectKnex(state.databaseUrl);
    try {
      await dropSlot(db, state.connector.slot, state.connector.publication);
    } finally {
      await db.destroy();
    }
  }
}

/**
 * The change topics exist before the first change, so the streaming job can subscribe from the start;
 * kept forever like every input topic (their timestamps are past commit times).
 */
async function createChangeTopics(plan: ConnectorPlan, brokers: string[], partitions: number): Promise<void> {
  const admin = createKafka({ clientId: 'dualrun-cdc', brokers }).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const keep = [{ name: 'retention.ms', value: '-1' }];
    const missing = Object.values(plan.topics).filter((topic) => !existing.has(topic));
    await createTopicsAndWait(admin, [
      ...missing.map((topic) => ({ topic, numPartitions: partitions, configEntries: keep })),
      // One partition: the END records in commit order, the order the job folds transactions in.
      ...(existing.has(plan.transactionTopic) ? [] : [{ topic: plan.transactionTopic, numPartitions: 1, configEntries: keep }]),
    ]);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Debezium writes heartbeats only once it streams, after the snapshot: the first one on the heartbeat
 * topic says every existing row is in the change topics. A failed task ends the wait with its trace.
 */
async function waitUntilStreaming(restUrl: string, plan: ConnectorPlan, brokers: string[], logPath: string | undefined, timeoutMs = 180_000): Promise<void> {
  const admin = createKafka({ clientId: 'dualrun-cdc', brokers }).admin();
  await admin.connect();
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      const status = await connectorStatus(restUrl, plan.name);
      const failure = status && failureOf(status);
      if (failure) {
        throw new UnavailableError(`kafka connect ${restUrl}`, `connector ${plan.name} failed while reading the snapshot: ${failure}${logPath ? `\n  log: ${logPath}` : ''}`, {
          hint: 'the trace says why (a setting the database refused, a grant missing); fix it and run dualrun cdc start again',
        });
      }
      if ((await admin.listTopics()).includes(plan.heartbeatTopic)) {
        const offsets = await fetchTopicOffsets(admin, plan.heartbeatTopic);
        if (offsets.some((partition) => Number(partition.high) > 0)) return;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    throw new UnavailableError(`kafka connect ${restUrl}`, `connector ${plan.name} had not finished its snapshot after ${timeoutMs / 1000} s (no heartbeat on ${plan.heartbeatTopic})${logPath ? `; log: ${logPath}` : ''}`);
  } finally {
    await admin.disconnect();
  }
}
