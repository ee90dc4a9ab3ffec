/**
 * What every CLI command gets: its arguments, the validated environment, a logger, and two output
 * channels — `out` (stdout: results, JSON) and `progress` (stderr: for people, quiet under --json).
 * A command module exports `help` (its --help text) and `run(ctx)` returning the exit code.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { EnvConfig } from '../config.ts';
import type { DualrunConfig } from '../config-file.ts';
import { UsageError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Project } from './project.ts';

export interface CommandContext {
  /** The command's name as typed (`kafka`, `batch`), for messages. */
  command: string;
  argv: string[];
  env: EnvConfig;
  /** dualrun.config.ts, validated (defaults when there is none). */
  config: DualrunConfig;
  /** The domain and every transformation the config gives (the example shop by default). */
  project: Project;
  logger: Logger;
  out(text: string): void;
  progress(text: string): void;
  /**
   * Strict flag parsing: an unknown flag or a missing value is a UsageError naming it. `usage` adds flags
   * the help cannot list (a domain generator's: `--readings N`), so their errors show the value's shape too.
   */
  parse<T extends NonNullable<ParseArgsConfig['options']>>(options: T, usage?: string): ReturnType<typeof parseArgs<{ options: T; allowPositionals: true; strict: true }>>;
}

export interface CommandModule {
  help: string;
  run(ctx: CommandContext): Promise<number>;
}

// A negative number after a flag is its value (so --orders -5 is judged as a number), not another flag.
const NEGATIVE_NUMBER = /^-\d/;

/** What a flag's value looks like, as its command's help writes it (`--date YYYY-MM-DD`, `--cron "0 2 * * *"`). */
export function valueShape(help: string, flag: string): string | undefined {
  const escaped = flag.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`--${escaped}[ =]("[^"]*"|[A-Z0-9][^\\s\\]…]*)`).exec(help)?.[1];
}

/**
 * A value-taking flag followed by nothing or by another flag says which flag wants which value (node's
 * parseArgs says "argument is ambiguous"); one followed by a negative number gets it as its value.
 */
function checkFlagValues(command: string, argv: string[], options: NonNullable<ParseArgsConfig['options']>, help: string): string[] {
  const args = [...argv];
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i]!;
    if (arg === '--') break;
    if (!arg.startsWith('--') || arg.includes('=')) continue;
    const name = arg.slice(2);
    if (options[name]?.type !== 'string') continue;
    const next = args[i + 1];
    if (next !== undefined && NEGATIVE_NUMBER.test(next)) {
      args.splice(i, 2, `${arg}=${next}`);
      continue;
    }
    if (next === undefined || next.startsWith('-')) {
      const shape = valueShape(help, name) ?? 'VALUE';
      throw new UsageError(`dualrun ${command}: ${arg} needs a value (${shape})${next === undefined ? ', and nothing follows it' : `, but the next argument is the flag ${next}`}`, {
        hint: `write ${arg} ${shape}; see dualrun ${command} --help`,
      });
    }
    i += 1;
  }
  return args;
}

export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(command: string, argv: string[], options: T, help = '') {
  const args = checkFlagValues(command, argv, options, help);
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`dualrun ${command}: ${(error as Error).message.replace(/\. To specify a positional argument.*$/s, '')}`, {
      hint: `see dualrun ${command} --help`,
    });
  }
}
