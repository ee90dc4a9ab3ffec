/**
 * Kafka Connect in standalone mode on 127.0.0.1, running Debezium for `dualrun cdc start`: a worker
 * against the cluster dualrun uses, its offsets in a file of its own data folder, its REST API on a
 * free port, detached so the command can return. Connectors are registered through the REST API, the
 * same way as on an existing Connect cluster (CONNECT_URL).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UnavailableError } from '../../src/errors.ts';
import { silentLogger, type Logger } from '../../src/logger.ts';
import { findJava, lastLines } from '../broker/provision.ts';
import { freePorts, stopProcess } from '../broker/local-kafka.ts';
import { CONNECT_VERSION, provisionConnect, type ConnectorKind } from './provision.ts';

const log4jConfig = fileURLToPath(new URL('./log4j2.properties', import.meta.url));

export interface LocalConnectInfo {
  /** The worker's REST API, http://127.0.0.1:<port>. */
  restUrl: string;
  pid: number;
  dataDir: string;
  logPath: string;
  startedAt: string;
}

export interface LocalConnect extends LocalConnectInfo {
  stop(): Promise<void>;
}

export interface LocalConnectOptions {
  cacheDir: string;
  brokers: string[];
  /** The connectors it loads (only what is needed: scanning a plugin folder takes seconds). */
  kinds: ConnectorKind[];
  /** Java heap ceiling: modest, the machine is shared with the broker and the job. */
  heap?: string;
  logger?: Logger;
  startTimeoutMs?: number;
  /** The data folder of a worker that died (killed, crashed): its offsets file lets Debezium resume where it stopped. */
  resumeFrom?: string;
}

export async function startLocalConnect({ cacheDir, brokers, kinds, heap = '512m', logger = silentLogger, startTimeoutMs = 120_000, resumeFrom }: LocalConnectOptions): Promise<LocalConnect> {
  const java = await findJava();
  const jars = await provisionConnect({ cacheDir, kinds, logger });
  const dataDir = resumeFrom ?? (await mkdtemp(join(tmpdir(), 'dualrun-connect-')));
  const logPath = join(dataDir, 'connect.log');
  const [port] = await freePorts(1);
  const restUrl = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  try {
    const propertiesPath = join(dataDir, 'worker.properties');
    await writeFile(propertiesPath, workerProperties({ brokers, dataDir, port: port!, pluginPath: jars.pluginPath }));
    const fd = openSync(logPath, 'a');
    child = spawn(java, [`-Xmx${heap}`, '-XX:+UseG1GC', '-Djava.awt.headless=true', `-Dlog4j2.configurationFile=${log4jConfig}`, '-cp', jars.classpath, 'org.apache.kafka.connect.cli.ConnectStandalone', propertiesPath], {
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    child.unref();
    await waitForRest(restUrl, child, logPath, startTimeoutMs);
  } catch (error) {
    if (child?.pid) await stopProcess(child.pid, child);
    if (!resumeFrom) await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  logger.info({ restUrl, pid: child.pid }, `Kafka Connect ${CONNECT_VERSION} is up`);
  const info: LocalConnectInfo = { restUrl, pid: child.pid!, dataDir, logPath, startedAt: new Date().toISOString() };
  return {
    ...info,
    stop: async () => {
      await stopProcess(info.pid, child);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

function workerProperties({ brokers, dataDir, port, pluginPath }: { brokers: string[]; dataDir: string; port: number; pluginPath: string[] }): string {
  return `# Written by dualrun: a standalone Kafka Connect worker for Debezium.
bootstrap.servers=${brokers.join(',')}
# Debezium's change events as plain JSON (no schema envelope): what the streaming job reads.
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
key.converter.schemas.enable=false
value.converter.schemas.enable=false
offset.storage.file.filename=${join(dataDir, 'offsets.dat')}
# Debezium is at-least-once: after a crash it resends from the last flushed offset. Flush often, so
# a restart resends little (the job's dedupe by source position absorbs the rest).
offset.flush.interval.ms=1000
plugin.path=${pluginPath.join(',')}
# Debezium's jars declare their plugins (META-INF/services): no reflective scan of every class, which
# took ~15 s of a start on 2 cores.
plugin.discovery=service_load
listeners=http://127.0.0.1:${port}
`;
}

async function waitForRest(restUrl: string, child: ChildProcess, logPath: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  while (Date.now() < deadline) {
    if (exited !== undefined) {
      throw new UnavailableError('kafka connect', `Kafka Connect exited with code ${exited} while starting; last lines of its log (${logPath}, removed):\n${await lastLines(logPath, 25)}`, {
        hint: 'a broker that cannot be reached or too little memory are the usual causes; or set CONNECT_URL to an existing Connect cluster',
      });
    }
    try {
      const response = await fetch(`${restUrl}/connectors`, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new UnavailableError('kafka connect', `Kafka Connect's REST API did not answer within ${timeoutMs / 1000}s; last lines of its log:\n${await lastLines(logPath, 25)}`);
}
