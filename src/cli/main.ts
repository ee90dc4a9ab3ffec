/**
 * The `dualrun` entry point: finds the command, loads its module lazily (so `dualrun compare` never
 * loads kafkajs and `dualrun batch` never loads DuckDB), runs it, and turns errors into one clear
 * message and a documented exit code. `--help` loads no more than it prints (config, zod and pino
 * come when a command runs), to start fast.
 */
import type { EnvConfig } from '../config.ts';
import type { DualrunConfig } from '../config-file.ts';
import { DualrunError, ExitCode, UsageError } from '../errors.ts';
import { parseFlags, type CommandContext, type CommandModule } from './command.ts';
import type { Project } from './project.ts';

interface CommandEntry {
  summary: string;
  load(): Promise<CommandModule>;
}

/** Each runner's CLI lives with the runner; src/ reaches it only through these lazy imports. */
export const commands: Record<string, CommandEntry> = {
  demo: { summary: 'the full parity run on one machine: replay, batch, stream, compare, explain, report', load: () => import('./demo.ts') },
  replay: { summary: 'feed a scenario to the legacy database and the Kafka input topics', load: () => import('../replay/cli.ts') },
  batch: { summary: 'run the legacy batch transformations for a date, schedule them nightly, show run history', load: () => import('../../batch/cli.ts') },
  stream: { summary: 'run the Kafka streaming job (exactly-once in effect), or show its lag and figures', load: () => import('../../streaming/cli.ts') },
  compare: { summary: 'compare two outputs by key in DuckDB, explain every difference, write reports', load: () => import('../../compare/cli.ts') },
  check: { summary: 'the migration gate for CI: judge shadow/cutover transformations against the manifest', load: () => import('./check.ts') },
  status: { summary: 'the migration board: stage, last verdict, streak and next step per transformation', load: () => import('./status.ts') },
  generate: { summary: 'write a synthetic scenario of any size, deterministic by seed', load: () => import('../scenario/generate-cli.ts') },
  kafka: { summary: 'start, stop or inspect the local Apache Kafka broker', load: () => import('../../streaming/broker/cli.ts') },
  cdc: { summary: "change data capture: Debezium turns the legacy database's log into change events", load: () => import('../../streaming/connect/cli.ts') },
  teach: { summary: 'lessons measured on the real broker and database: why events decouple what a nightly batch couples', load: () => import('./teach/cli.ts') },
};

export const overview = (): string => `dualrun — run a legacy nightly batch job and its Kafka streaming replacement side by side,
compare their outputs in DuckDB, explain every difference, and gate the cut-over.

Usage: dualrun <command> [options]      dualrun <command> --help for its options

Commands:
${Object.entries(commands)
  .map(([name, entry]) => `  ${name.padEnd(10)} ${entry.summary}`)
  .join('\n')}

Environment:
  KAFKA_BROKERS       an existing Kafka cluster (host:port,…); unset: dualrun starts a local broker
  DATABASE_URL        the legacy database (postgres://…, mysql://…, pglite:memory); unset: embedded PGlite
  DUALRUN_CONFIG      the config file (default ./dualrun.config.ts, .mts, .cts, .js, .mjs or .cjs; also --config FILE)
  KAFKA_SSL, KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD   a secured cluster
  CONNECT_URL         an existing Kafka Connect cluster for dualrun cdc; unset: dualrun cdc starts a local worker
  DUALRUN_CACHE_DIR   where Kafka jars and local state are kept (default ~/.cache/dualrun)
  DUALRUN_LOG_LEVEL   debug | info | warn (default) | error | silent — JSON logs on stderr

Exit codes:
  0 success / parity   1 failed / parity violated   2 usage or input error   3 configuration error
  4 a service (database, Kafka, Java, Maven) is unavailable   5 source schema mismatch   70 internal error
  130 interrupted (Ctrl-C): the message says what was undone and how to go on`;

/** `--config FILE` is global: every command reads the same dualrun.config.ts. */
function takeConfigFlag(argv: string[]): { configPath: string | undefined; args: string[] } {
  const args: string[] = [];
  let configPath: string | undefined;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '--config') {
      configPath = argv[i + 1];
      if (configPath === undefined || configPath.startsWith('--')) throw new UsageError('--config needs a file', { hint: 'dualrun <command> --config path/to/dualrun.config.ts' });
      i += 1;
    } else if (arg.startsWith('--config=')) configPath = arg.slice('--config='.length);
    else args.push(arg);
  }
  return { configPath, args };
}

/**
 * dualrun.config.ts (or --config / DUALRUN_CONFIG), validated once. Its database and brokers fill in
 * what the environment leaves unset (environment variables, and flags, win), and its Kafka security
 * goes to every Kafka client.
 */
async function loadConfig(path: string | undefined, env: EnvConfig): Promise<{ config: DualrunConfig; project: Project }> {
  const { loadConfigFile } = await import('../config-file.ts');
  const { resolveProject } = await import('./project.ts');
  const config = await loadConfigFile(path);
  const project = await resolveProject(config, path ?? 'dualrun.config.ts');
  env.databaseUrl ??= config.database?.url;
  const kafka = config.kafka;
  env.topicPrefix ??= kafka?.topicPrefix ?? project.domain.name;
  env.partitions ??= kafka?.partitions;
  // The file's TLS/SASL settings belong to the file's cluster: not sent to one named by KAFKA_BROKERS.
  if (kafka?.brokers && !env.kafkaBrokers) {
    env.kafkaBrokers = kafka.brokers;
    if (kafka.ssl || kafka.sasl) {
      const { useKafkaSecurity } = await import('../kafka-client.ts');
      const sasl = kafka.sasl ? { mechanism: kafka.sasl.mechanism, username: kafka.sasl.username, password: process.env[kafka.sasl.passwordEnv] ?? '' } : undefined;
      useKafkaSecurity({ ssl: kafka.ssl, ...(sasl ? { sasl } : {}) });
    }
  }
  return { config, project };
}

export async function main(argv: string[], io = { out: (text: string) => console.log(text), err: (text: string) => console.error(text) }): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (!name || name === '--help' || name === '-h' || name === 'help') {
      io.out(overview());
      return name ? ExitCode.ok : ExitCode.usage;
    }
    if (name === '--version') {
      const { dualrunVersion } = await import('../version.ts');
      io.out(dualrunVersion());
      return ExitCode.ok;
    }
    const entry = commands[name];
    if (!entry) throw new UsageError(`unknown command "${name}"`, { hint: `run dualrun --help for the list: ${Object.keys(commands).join(', ')}` });
    const module = await entry.load();
    if (rest.includes('--help') || rest.includes('-h')) {
      io.out(module.help);
      return ExitCode.ok;
    }
    const { configPath, args } = takeConfigFlag(rest);
    const [{ readEnvConfig }, { describeConfig }, { createLogger }] = await Promise.all([import('../config.ts'), import('../config-file.ts'), import('../logger.ts')]);
    const env = readEnvConfig();
    const { config, project } = await loadConfig(configPath ?? env.configPath, env);
    const quiet = args.includes('--json');
    const logger = createLogger(args.includes('--verbose') ? 'info' : (env.logLevel ?? 'warn'));
    logger.info({ config: describeConfig(config) }, 'configuration (secrets hidden)');
    const ctx: CommandContext = {
      command: name,
      argv: args,
      env,
      config,
      project,
      // --verbose (a flag) wins over DUALRUN_LOG_LEVEL.
      logger,
      out: io.out,
      progress: (text) => {
        if (!quiet) io.err(text);
      },
      parse: (options, usage) => parseFlags(name, args, options, usage === undefined ? module.help : `${module.help}\n${usage}`),
    };
    return await module.run(ctx);
  } catch (error) {
    if (error instanceof DualrunError) {
      io.err(`error: ${error.describe()}`);
      return error.exitCode;
    }
    io.err(`internal error (please report it): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return ExitCode.internal;
  }
}
