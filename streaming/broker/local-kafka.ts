/**
 * A single-node Apache Kafka (KRaft, combined broker + controller) on 127.0.0.1, for a newcomer's
 * first run, the demo, the tests and the benchmarks. Storage is formatted in a fresh data folder,
 * ports are picked free, and the broker runs detached so `dualrun kafka start` can return.
 * Users with a cluster set KAFKA_BROKERS and never come here.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { UnavailableError } from '../../src/errors.ts';
import { silentLogger, type Logger } from '../../src/logger.ts';
import { isAlive, type LocalKafkaInfo } from '../../src/local-broker-state.ts';

export { isAlive, type LocalKafkaInfo };
import { findJava, lastLines, provisionKafka, type KafkaJars } from './provision.ts';

const log4jConfig = fileURLToPath(new URL('./log4j2.properties', import.meta.url));

export interface LocalKafkaOptions {
  cacheDir: string;
  kafkaHome?: string | undefined;
  /** Java heap ceiling; the broker is bounded so tests and benchmarks fit on a small machine. */
  heap?: string;
  startTimeoutMs?: number;
  logger?: Logger;
  /** Also open a SASL/PLAIN listener with these users (name → password), as a secured cluster would. */
  saslUsers?: Record<string, string>;
  /** Aborted (Ctrl-C) while starting: the broker is stopped and its data folder removed, then the start rejects. */
  signal?: AbortSignal;
}

export interface LocalKafka extends LocalKafkaInfo {
  stop(options?: { keepData?: boolean }): Promise<void>;
}

export async function startLocalKafka(options: LocalKafkaOptions): Promise<LocalKafka> {
  const logger = options.logger ?? silentLogger;
  const java = await findJava();
  const jars = await provisionKafka({ cacheDir: options.cacheDir, kafkaHome: options.kafkaHome, logger });
  const dataDir = await mkdtemp(join(tmpdir(), 'dualrun-kafka-'));
  const logPath = join(dataDir, 'broker.log');
  let child: ChildProcess | undefined;
  const started = Date.now();
  const [brokerPort, controllerPort, saslPort] = await freePorts(3);
  const brokers = `127.0.0.1:${brokerPort}`;
  const sasl = options.saslUsers ? { port: saslPort!, users: options.saslUsers } : undefined;
  try {
    const propertiesPath = join(dataDir, 'server.properties');
    await writeFile(propertiesPath, serverProperties({ dataDir, brokerPort: brokerPort!, controllerPort: controllerPort!, sasl }));
    await formatStorage(java, jars, propertiesPath, join(dataDir, 'format.log'), options.signal);
    options.signal?.throwIfAborted();
    child = spawnBroker(java, jars, propertiesPath, logPath, options.heap ?? '768m');
    await waitUntilReady(brokers, child, logPath, options.startTimeoutMs ?? 90_000, options.signal);
  } catch (error) {
    // The error already carries the log's last lines: leave no process and no data folder behind.
    if (child?.pid) await stopProcess(child.pid, child);
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  logger.info({ brokers, pid: child.pid, ms: Date.now() - started }, 'local Kafka broker is up');
  const info: LocalKafkaInfo = { brokers, pid: child.pid!, dataDir, logPath, startedAt: new Date().toISOString(), jars: jars.libs, ...(sasl ? { saslBrokers: `127.0.0.1:${sasl.port}` } : {}) };
  return {
    ...info,
    stop: async ({ keepData = false } = {}) => {
      await stopProcess(info.pid, child);
      if (!keepData) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

function serverProperties({ dataDir, brokerPort, controllerPort, sasl }: { dataDir: string; brokerPort: number; controllerPort: number; sasl: { port: number; users: Record<string, string> } | undefined }): string {
  const saslListener = sasl ? `,SASL_PLAINTEXT://127.0.0.1:${sasl.port}` : '';
  const jaasUsers = sasl ? Object.entries(sasl.users).map(([user, password]) => `user_${user}=${JSON.stringify(password)}`).join(' ') : '';
  return `# Written by dualrun: a single-node KRaft broker for local runs and tests.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${controllerPort}
listeners=PLAINTEXT://127.0.0.1:${brokerPort},CONTROLLER://127.0.0.1:${controllerPort}${saslListener}
advertised.listeners=PLAINTEXT://127.0.0.1:${brokerPort}${saslListener}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT
${sasl ? `sasl.enabled.mechanisms=PLAIN\nlistener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required ${jaasUsers};\n` : ''}log.dirs=${join(dataDir, 'logs')}
num.partitions=1
num.network.threads=2
num.io.threads=4
# One node: every internal topic with one replica, and fewer partitions so coordinators load fast.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=10
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
min.insync.replicas=1
default.replication.factor=1
# Tests and the demo start consumer groups often: don't wait 3 s for more members.
group.initial.rebalance.delay.ms=0
log.cleaner.backoff.ms=1000
`;
}

/** Kafka's Uuid format: 16 random bytes, URL-safe base64 without padding (never starting with '-'). */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

async function formatStorage(java: string, jars: KafkaJars, propertiesPath: string, logPath: string, signal: AbortSignal | undefined): Promise<void> {
  const args = ['-Xmx256m', `-Dlog4j2.configurationFile=${log4jConfig}`, '-cp', jars.classpath, 'kafka.tools.StorageTool', 'format', '-t', clusterId(), '-c', propertiesPath];
  const fd = openSync(logPath, 'w');
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(java, args, { stdio: ['ignore', fd, fd], ...(signal ? { signal } : {}) });
    child.on('error', reject);
    child.on('exit', (exitCode) => resolve(exitCode ?? 1));
  }).finally(() => closeSync(fd));
  if (code !== 0) {
    throw new UnavailableError('kafka', `formatting KRaft storage failed (exit ${code}):\n${await lastLines(logPath, 20)}`, {
      hint: 'a corrupt jar cache can be removed and fetched again: dualrun kafka start --refresh',
    });
  }
}

function spawnBroker(java: string, jars: KafkaJars, propertiesPath: string, logPath: string, heap: string): ChildProcess {
  const fd = openSync(logPath, 'a');
  const args = [
    `-Xmx${heap}`,
    '-Xms256m',
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${log4jConfig}`,
    '-cp',
    jars.classpath,
    'kafka.Kafka',
    propertiesPath,
  ];
  // Detached with its output in the log file: the broker outlives `dualrun kafka start`.
  const child = spawn(java, args, { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  child.unref();
  return child;
}

async function waitUntilReady(brokers: string, child: ChildProcess, logPath: string, timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  const admin = new Kafka({ clientId: 'dualrun-broker-probe', brokers: [brokers], logLevel: logLevel.NOTHING, retry: { retries: 0 }, connectionTimeout: 1000 }).admin();
  try {
    while (Date.now() < deadline) {
      signal?.throwIfAborted();
      if (exited !== undefined) {
        throw new UnavailableError('kafka', `the broker exited with code ${exited} while starting; last lines of its log (${logPath}, removed):\n${await lastLines(logPath, 25)}`, {
          hint: 'a port clash or too little memory are the usual causes; set KAFKA_BROKERS to use an existing cluster instead',
        });
      }
      try {
        await admin.connect();
        const cluster = await admin.describeCluster();
        if (cluster.brokers.length > 0) return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
    throw new UnavailableError('kafka', `the broker did not answer metadata requests within ${timeoutMs / 1000}s; last lines of its log:\n${await lastLines(logPath, 25)}`);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * SIGTERM (a clean controlled shutdown), then SIGKILL after a grace period.
 * With the ChildProcess at hand we wait for its exit event: a dead child stays a zombie,
 * and looks alive to kill(pid, 0), until Node reaps it.
 */
export async function stopProcess(pid: number, child?: ChildProcess, graceMs = 20_000): Promise<void> {
  const exited = child
    ? new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())))
    : undefined;
  const gone = async (ms: number): Promise<boolean> => {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      if (exited) {
        const done = await Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 100))]);
        if (done) return true;
      } else {
        if (!isAlive(pid)) return true;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    return false;
  };
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  if (await gone(graceMs)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  await gone(5_000);
}

export function freePorts(count: number): Promise<number[]> {
  return Promise.all(
    Array.from({ length: count }, () => new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    })),
  );
}
