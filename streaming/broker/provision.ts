/**
 * Finds the Apache Kafka jars the local broker runs on: `KAFKA_HOME/libs` when set, otherwise a cache
 * folder filled once from Maven Central by `mvn dependency:copy-dependencies` on the pom beside this file.
 * The cache is written to a temporary folder and renamed into place, so an interrupted download never
 * leaves a half-filled cache that looks complete.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UnavailableError } from '../../src/errors.ts';
import type { Logger } from '../../src/logger.ts';

export const KAFKA_VERSION = '4.4.0';
const pomPath = fileURLToPath(new URL('./pom.xml', import.meta.url));

export interface KafkaJars {
  /** Folder holding the jars. */
  libs: string;
  /** A java `-cp` value with every jar. */
  classpath: string;
  source: 'KAFKA_HOME' | 'cache';
}

export interface ProvisionOptions {
  cacheDir: string;
  kafkaHome?: string | undefined;
  logger: Logger;
}

export async function provisionKafka({ cacheDir, kafkaHome, logger }: ProvisionOptions): Promise<KafkaJars> {
  if (kafkaHome) {
    const libs = join(kafkaHome, 'libs');
    if (!existsSync(libs)) {
      throw new UnavailableError('KAFKA_HOME', `${libs} does not exist`, { hint: 'point KAFKA_HOME at an unpacked Apache Kafka 4.x distribution, or unset it to let dualrun fetch the jars' });
    }
    return { libs, classpath: join(libs, '*'), source: 'KAFKA_HOME' };
  }
  const home = join(cacheDir, `kafka-${KAFKA_VERSION}`);
  const libs = join(home, 'libs');
  if (!existsSync(join(home, 'complete'))) {
    await downloadJars(home, libs, logger);
  }
  return { libs, classpath: join(libs, '*'), source: 'cache' };
}

async function downloadJars(home: string, libs: string, logger: Logger): Promise<void> {
  logger.info({ home }, `fetching Apache Kafka ${KAFKA_VERSION} jars from Maven Central (once)`);
  await fetchMavenJars({ home, libs, pomPath, version: KAFKA_VERSION, expectJar: 'kafka_2.13-', hint: 'check that Maven is installed (mvn -v) and can reach Maven Central; or set KAFKA_HOME to a Kafka distribution, or KAFKA_BROKERS to a running cluster' });
}

export interface MavenFetch {
  /** The cache entry: its `complete` marker and `mvn.log` go here. */
  home: string;
  /** Where the jars land (renamed into place once all are there). */
  libs: string;
  pomPath: string;
  /** Written into the marker, for people reading the cache. */
  version: string;
  /** A jar name prefix that must be among the jars, or the fetch failed. */
  expectJar: string;
  /** More `mvn` arguments: properties the pom reads, `-DexcludeArtifactIds=…`. */
  mvnArgs?: string[];
  hint: string;
}

/**
 * Fills `libs` with the runtime dependencies of `pomPath` (mvn dependency:copy-dependencies), through a
 * staging folder renamed into place, then writes `home/complete`: a cache entry is complete or absent.
 */
export async function fetchMavenJars({ home, libs, pomPath, version, expectJar, mvnArgs = [], hint }: MavenFetch): Promise<void> {
  await mkdir(home, { recursive: true });
  const staging = join(home, `libs.partial-${process.pid}`);
  const logPath = join(home, 'mvn.log');
  await rm(staging, { recursive: true, force: true });
  const args = ['-B', '-f', pomPath, 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${staging}`, ...mvnArgs];
  const code = await run('mvn', args, logPath);
  if (code !== 0) {
    const tail = await lastLines(logPath, 20);
    throw new UnavailableError('maven', `mvn dependency:copy-dependencies failed (exit ${code}); its log is ${logPath}:\n${tail}`, { hint });
  }
  if (!(await readdir(staging)).some((file) => file.startsWith(expectJar))) {
    throw new UnavailableError('maven', `mvn finished but ${staging} holds no ${expectJar}* jar; see ${logPath}`);
  }
  await rm(libs, { recursive: true, force: true });
  await rename(staging, libs);
  await writeFile(join(home, 'complete'), `${version}\n`);
}

/** Runs a command with its output in a log file; resolves with its exit code. */
function run(command: string, args: string[], logPath: string): Promise<number> {
  const fd = openSync(logPath, 'w');
  return new Promise<number>((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', fd, fd] });
    child.on('error', (error) => {
      reject(new UnavailableError(command, `cannot run ${command}: ${error.message}`, { cause: error, hint: 'install Maven (apt-get install maven); or set KAFKA_HOME to a Kafka distribution, or KAFKA_BROKERS to a running cluster' }));
    });
    child.on('exit', (code) => resolve(code ?? 1));
  }).finally(() => closeSync(fd));
}

export async function lastLines(path: string, count: number): Promise<string> {
  try {
    const text = await readFile(path, 'utf8');
    return text.trimEnd().split('\n').slice(-count).join('\n');
  } catch {
    return '(no log written)';
  }
}

/** The java binary to use: JAVA_HOME's if set, else `java` on the PATH. Checks it is 17 or newer. */
export async function findJava(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const java = env.JAVA_HOME ? join(env.JAVA_HOME, 'bin', 'java') : 'java';
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(java, ['-version'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.on('error', reject);
    child.on('exit', () => resolve(text));
  }).catch((error: unknown) => {
    throw new UnavailableError('java', `no Java runtime found (${java}): ${(error as Error).message}`, {
      cause: error,
      hint: 'install Java 17 or newer (apt-get install openjdk-17-jre-headless) or set JAVA_HOME; or set KAFKA_BROKERS to use an existing cluster',
    });
  });
  const major = Number(/version "(\d+)/.exec(output)?.[1] ?? 0);
  if (major < 17) {
    throw new UnavailableError('java', `Apache Kafka ${KAFKA_VERSION} needs Java 17 or newer; ${java} is ${output.split('\n')[0] ?? 'unknown'}`, {
      hint: 'install Java 17+ (apt-get install openjdk-17-jre-headless) and put it first on PATH or in JAVA_HOME; or set KAFKA_BROKERS',
    });
  }
  return java;
}
