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
  /** Strict flag parsing: an unknown flag or a missing value is a UsageError naming it. */
  parse<T extends NonNullable<ParseArgsConfig['options']>>(options: T): ReturnType<typeof parseArgs<{ options: T; allowPositionals: true; strict: true }>>;
}

export interface CommandModule {
  help: string;
  run(ctx: CommandContext): Promise<number>;
}

export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(command: string, argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`dualrun ${command}: ${(error as Error).message.replace(/\. To specify a positional argument.*$/s, '')}`, {
      hint: `see dualrun ${command} --help`,
    });
  }
}
