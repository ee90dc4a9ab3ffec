// `dualrun kafka start | status | stop` as a user runs them, against a real broker process.
// Uses KAFKA_HOME pointed at the jar cache the run already filled, so no second download happens.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { readEnvConfig } from '../../src/config.ts';
import { isAlive } from '../../streaming/broker/local-kafka.ts';
import { provisionKafka } from '../../streaming/broker/provision.ts';
import { silentLogger } from '../../src/logger.ts';
import { runCli } from '../support/cli.ts';

const bin = fileURLToPath(new URL('../../bin/dualrun.js', import.meta.url));
let cacheDir: string;
let kafkaHome: string;

/** Pids of the broker processes whose command line names `dir` (their data folder is in it). */
function brokerProcesses(dir: string): number[] {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).flatMap((pid) => {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      return cmdline.includes('kafka.Kafka') && cmdline.includes(dir) ? [Number(pid)] : [];
    } catch {
      return [];
    }
  });
}

beforeAll(async () => {
  const env = readEnvConfig();
  const jars = await provisionKafka({ cacheDir: env.cacheDir, kafkaHome: env.kafkaHome, logger: silentLogger });
  kafkaHome = join(jars.libs, '..');
  cacheDir = await mkdtemp(join(tmpdir(), 'dualrun-cache-'));
});

afterAll(async () => {
  await runCli(['kafka', 'stop'], { DUALRUN_CACHE_DIR: cacheDir, KAFKA_HOME: kafkaHome });
  await rm(cacheDir, { recursive: true, force: true });
});

describe('dualrun kafka', () => {
  it('starts a broker, refuses a second, reports status, and stops leaving no process behind', async () => {
    const env = { DUALRUN_CACHE_DIR: cacheDir, KAFKA_HOME: kafkaHome };
    // Two starts at once: one starts the broker, the other waits for it and reports it.
    const starts = await Promise.all([runCli(['kafka', 'start', '--json'], env), runCli(['kafka', 'start', '--json'], env)]);
    for (const result of starts) expect(result.code, result.stderr).toBe(0);
    const outputs = starts.map((result) => JSON.parse(result.stdout) as { brokers: string; pid: number; dataDir: string; alreadyRunning?: boolean });
    expect(outputs.filter((output) => output.alreadyRunning === true)).toHaveLength(1);
    const info = outputs.find((output) => output.alreadyRunning !== true)!;
    expect(outputs.map((output) => output.pid)).toEqual([info.pid, info.pid]);
    expect(info.brokers).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(isAlive(info.pid)).toBe(true);

    const cluster = await new Kafka({ brokers: [info.brokers], logLevel: logLevel.NOTHING }).admin();
    await cluster.connect();
    expect((await cluster.describeCluster()).brokers).toHaveLength(1);
    await cluster.disconnect();

    const second = await runCli(['kafka', 'start', '--json'], env);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ alreadyRunning: true, pid: info.pid, brokers: info.brokers });

    const status = await runCli(['kafka', 'status', '--json'], env);
    expect(JSON.parse(status.stdout)).toMatchObject({ running: true, pid: info.pid });

    const stop = await runCli(['kafka', 'stop', '--json'], env);
    expect(JSON.parse(stop.stdout)).toMatchObject({ stopped: true, pid: info.pid });
    expect(isAlive(info.pid)).toBe(false);
    const after = await runCli(['kafka', 'status', '--json'], env);
    expect(JSON.parse(after.stdout)).toEqual({ running: false });
  });

  it('after the broker is killed with SIGKILL, status says so and stop removes its data folder', async () => {
    const env = { DUALRUN_CACHE_DIR: cacheDir, KAFKA_HOME: kafkaHome };
    const start = await runCli(['kafka', 'start', '--json'], env);
    expect(start.code, start.stderr).toBe(0);
    const info = JSON.parse(start.stdout) as { pid: number; dataDir: string };
    process.kill(info.pid, 'SIGKILL');
    const deadline = Date.now() + 10_000;
    while (isAlive(info.pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    // Asking first (as any command that looks for the local broker does) no longer forgets the folder.
    const status = await runCli(['kafka', 'status', '--json'], env);
    expect(JSON.parse(status.stdout)).toMatchObject({ running: false, died: { pid: info.pid, dataDir: info.dataDir } });
    const text = await runCli(['kafka', 'status'], env);
    expect(text.stdout).toContain(`has died\n  log: ${info.dataDir}/broker.log\n  dualrun kafka stop removes its data (${info.dataDir})`);
    const stop = await runCli(['kafka', 'stop'], env);
    expect(stop.code).toBe(0);
    expect(stop.stdout).toBe(`the local broker (pid ${info.pid}) had already stopped (killed or crashed); removed its data (${info.dataDir})\n`);
    expect(existsSync(info.dataDir)).toBe(false);
    expect(JSON.parse((await runCli(['kafka', 'status', '--json'], env)).stdout)).toEqual({ running: false });
  });

  it('Ctrl-C while the broker starts stops it and removes its data folder', async () => {
    const tmp = await mkdtemp(join(tmpdir(), 'dualrun-tmp-'));
    const ownCache = await mkdtemp(join(tmpdir(), 'dualrun-cache-'));
    try {
      const child = spawn(process.execPath, [bin, 'kafka', 'start'], { env: { ...process.env, DUALRUN_CACHE_DIR: ownCache, KAFKA_HOME: kafkaHome, TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      // Interrupted once the broker process runs (it writes its log in the data folder).
      const deadline = Date.now() + 60_000;
      const brokerLog = async () => (await readdir(tmp)).some((name) => name.startsWith('dualrun-kafka-') && existsSync(join(tmp, name, 'broker.log')));
      while (!(await brokerLog()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      child.kill('SIGINT');
      expect(await exited, stderr).toBe(130);
      expect(stderr).toContain('error: SIGINT: the broker was stopped while starting; nothing is left running and its data folder is removed\n  fix: run dualrun kafka start again');
      // (tsx keeps its cache in TMPDIR too.)
      expect((await readdir(tmp)).filter((name) => name.startsWith('dualrun-'))).toEqual([]);
      expect(brokerProcesses(tmp)).toEqual([]);
      expect(JSON.parse((await runCli(['kafka', 'status', '--json'], { DUALRUN_CACHE_DIR: ownCache })).stdout)).toEqual({ running: false });
    } finally {
      for (const pid of brokerProcesses(tmp)) process.kill(pid, 'SIGKILL');
      await rm(tmp, { recursive: true, force: true });
      await rm(ownCache, { recursive: true, force: true });
    }
  });

  it('without Java 17+, exits 4 and says how to install it or use KAFKA_BROKERS', async () => {
    const result = await runCli(['kafka', 'start'], { DUALRUN_CACHE_DIR: cacheDir, KAFKA_HOME: kafkaHome, JAVA_HOME: '/nonexistent-jdk' });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('no Java runtime found (/nonexistent-jdk/bin/java)');
    expect(result.stderr).toContain('KAFKA_BROKERS');
  });

  it('when Maven cannot run, exits 4 and names the alternatives', async () => {
    const emptyCache = await mkdtemp(join(tmpdir(), 'dualrun-cache-'));
    try {
      // A PATH holding java but no mvn: the download cannot run.
      const javaDir = join(process.env.JAVA_HOME ?? '/usr/lib/jvm/java-17-openjdk-amd64', 'bin');
      const result = await runCli(['kafka', 'start'], { DUALRUN_CACHE_DIR: emptyCache, PATH: javaDir, KAFKA_HOME: '' });
      expect(result.code).toBe(4);
      expect(result.stderr).toContain('cannot run mvn');
      expect(result.stderr).toContain(`Kafka distribution, or KAFKA_BROKERS`);
    } finally {
      await rm(emptyCache, { recursive: true, force: true });
    }
  });

  it('a broker that dies while starting is reported with the last lines of its log', async () => {
    const result = await runCli(['kafka', 'start', '--heap', '1k'], { DUALRUN_CACHE_DIR: cacheDir, KAFKA_HOME: kafkaHome });
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/the broker exited with code \d+ while starting; last lines of .*broker\.log/);
    expect(result.stderr).toMatch(/heap/i);
    // Nothing left behind: the data folder named in the message is gone.
    const dataDir = /\((\/[^,]*dualrun-kafka-[^/]+)\/broker\.log, removed\)/.exec(result.stderr)?.[1];
    expect(dataDir).toBeDefined();
    expect(existsSync(dataDir!)).toBe(false);
  });
});
