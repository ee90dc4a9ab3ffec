/**
 * The `dualrun` entry point: finds the command, loads its module lazily (so `dualrun compare` never
 * loads kafkajs and `dualrun batch` never loads DuckDB), runs it, and turns errors into one clear
 * message and a documented exit code.
 */
import { readEnvConfig } from '../config.ts';
import { DualrunError, ExitCode, UsageError } from '../errors.ts';
import { createLogger } from '../logger.ts';
import { parseFlags, type CommandContext, type CommandModule } from './command.ts';

interface CommandEntry {
  summary: string;
  load(): Promise<CommandModule>;
}

/** Each runner's CLI lives with the runner; src/ reaches it only through these lazy imports. */
export const commands: Record<string, CommandEntry> = {
  batch: { summary: 'run the legacy batch transformations for a date, schedule them nightly, show run history', load: () => import('../../batch/cli.ts') },
  kafka: { summary: 'start, stop or inspect the local Apache Kafka broker', load: () => import('../../streaming/broker/cli.ts') },
  generate: { summary: 'write a synthetic scenario of any size, deterministic by seed', load: () => import('../scenario/generate-cli.ts') },
  replay: { summary: 'feed a scenario to the legacy database and the Kafka input topics', load: () => import('../replay/cli.ts') },
  stream: { summary: 'run the Kafka streaming job (exactly-once in effect), or show its lag and figures', load: () => import('../../streaming/cli.ts') },
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
  DUALRUN_CACHE_DIR   where Kafka jars and local state are kept (default ~/.cache/dualrun)
  DUALRUN_LOG_LEVEL   debug | info | warn (default) | error | silent — JSON logs on stderr

Exit codes:
  0 success / parity   1 failed / parity violated   2 usage or input error   3 configuration error
  4 a service (database, Kafka, Java, Maven) is unavailable   5 source schema mismatch   70 internal error`;

export async function main(argv: string[], io = { out: (text: string) => console.log(text), err: (text: string) => console.error(text) }): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (!name || name === '--help' || name === '-h' || name === 'help') {
      io.out(overview());
      return name ? ExitCode.ok : ExitCode.usage;
    }
    if (name === '--version') {
      const { default: pkg } = await import('../../package.json', { with: { type: 'json' } });
      io.out(pkg.version);
      return ExitCode.ok;
    }
    const entry = commands[name];
    if (!entry) throw new UsageError(`unknown command "${name}"`, { hint: `run dualrun --help for the list: ${Object.keys(commands).join(', ')}` });
    const module = await entry.load();
    if (rest.includes('--help') || rest.includes('-h')) {
      io.out(module.help);
      return ExitCode.ok;
    }
    const env = readEnvConfig();
    const quiet = rest.includes('--json');
    const ctx: CommandContext = {
      command: name,
      argv: rest,
      env,
      logger: createLogger(env.logLevel ?? (rest.includes('--verbose') ? 'info' : 'warn')),
      out: io.out,
      progress: (text) => {
        if (!quiet) io.err(text);
      },
      parse: (options) => parseFlags(name, rest, options),
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
