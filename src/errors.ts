/**
 * Every error dualrun raises on purpose. Each carries a stable `code`, the context that says
 * *where* (config key, file:line:column, topic/partition/offset, table), a hint saying how to fix it,
 * and the exit code the CLI returns for it. Driver errors (knex, kafkajs, DuckDB) are wrapped into
 * these in one place per runner, with the original kept as `cause`.
 */

/** Exit codes the CLI promises (documented in `dualrun --help`). */
export const ExitCode = {
  ok: 0,
  /** The job ran and its verdict is negative: parity violated, a run failed. */
  failed: 1,
  /** Bad command line or bad input file. */
  usage: 2,
  /** Bad configuration (config file or environment). */
  config: 3,
  /** A service (database, Kafka, Java, Maven) cannot be reached or started. */
  unavailable: 4,
  /** The source data does not have the shape we need (missing table or column). */
  schema: 5,
  /** A bug in dualrun: please report it. */
  internal: 70,
  /** Stopped by Ctrl-C (SIGINT), as shells report it (128 + 2). */
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface DualrunErrorOptions {
  cause?: unknown;
  /** How to fix it, in one sentence. */
  hint?: string;
}

export class DualrunError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly exitCode: ExitCode = ExitCode.failed;

  constructor(code: string, message: string, options: DualrunErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
  }

  /** Where the problem is, as people write it (`orders.csv:3:7`, `shop.orders[2]@41`, `config kafka.brokers`). */
  get where(): string | undefined {
    return undefined;
  }

  /** The message a person reads: where, what, how to fix. */
  describe(): string {
    const where = this.where ? `${this.where}: ` : '';
    const hint = this.hint ? `\n  fix: ${this.hint}` : '';
    return `${where}${this.message}${hint}`;
  }
}

/** A bad command line: unknown flag, missing argument, invalid value. */
export class UsageError extends DualrunError {
  override readonly exitCode = ExitCode.usage;
  constructor(message: string, options: DualrunErrorOptions = {}) {
    super('USAGE', message, options);
  }
}

/** A bad configuration value. `key` is the dotted path (`kafka.brokers`) or the environment variable. */
export class ConfigError extends DualrunError {
  override readonly exitCode = ExitCode.config;
  readonly key: string;
  constructor(key: string, message: string, options: DualrunErrorOptions = {}) {
    super('CONFIG', message, options);
    this.key = key;
  }
  override get where(): string {
    return `config ${this.key}`;
  }
}

/** Bad input in a file. Line and column are 1-based, as editors show them. */
export class InputError extends DualrunError {
  override readonly exitCode = ExitCode.usage;
  readonly file: string;
  readonly line: number | undefined;
  readonly column: number | undefined;
  constructor(file: string, line: number | undefined, column: number | undefined, message: string, options: DualrunErrorOptions = {}) {
    super('INPUT', message, options);
    this.file = file;
    this.line = line;
    this.column = column;
  }
  override get where(): string {
    return [this.file, this.line, this.column].filter((part) => part !== undefined).join(':');
  }
}

/** A bad event on a topic. */
export class EventError extends DualrunError {
  override readonly exitCode = ExitCode.usage;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  constructor(topic: string, partition: number, offset: string, message: string, options: DualrunErrorOptions = {}) {
    super('EVENT', message, options);
    this.topic = topic;
    this.partition = partition;
    this.offset = offset;
  }
  override get where(): string {
    return `${this.topic}[${this.partition}]@${this.offset}`;
  }
}

/** Writing an output failed; the output is left as it was before. */
export class SinkError extends DualrunError {
  readonly table: string;
  constructor(table: string, message: string, options: DualrunErrorOptions = {}) {
    super('SINK', message, options);
    this.table = table;
  }
  override get where(): string {
    return `table ${this.table}`;
  }
}

/** A source table or column we need is missing. */
export class SchemaError extends DualrunError {
  override readonly exitCode = ExitCode.schema;
  readonly table: string;
  constructor(table: string, message: string, options: DualrunErrorOptions = {}) {
    super('SCHEMA', message, options);
    this.table = table;
  }
  override get where(): string {
    return `table ${this.table}`;
  }
}

/** A service we need cannot be reached or started (database, Kafka broker, Java, Maven). */
export class UnavailableError extends DualrunError {
  override readonly exitCode = ExitCode.unavailable;
  readonly service: string;
  constructor(service: string, message: string, options: DualrunErrorOptions = {}) {
    super('UNAVAILABLE', message, options);
    this.service = service;
  }
  override get where(): string {
    return this.service;
  }
}

/** Stopped by a signal (Ctrl-C) before finishing; the message says what was undone and how to go on. */
export class InterruptedError extends DualrunError {
  override readonly exitCode = ExitCode.interrupted;
  readonly signal: string;
  constructor(signal: string, message: string, options: DualrunErrorOptions = {}) {
    super('INTERRUPTED', message, options);
    this.signal = signal;
  }
  override get where(): string {
    return this.signal;
  }
}

/** The message of any thrown value, for wrapping driver errors. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
