/**
 * The nightly scheduler. node-cron is only the alarm clock: on start-up and at every tick the
 * scheduler asks the run history which (transformation, date) pairs are due and not yet succeeded,
 * and runs them oldest date first. A date D is due once its cut-off (02:00 local on D+1) has passed,
 * so a tick that comes twice (the repeated 02:00 of an autumn DST night), late, or after a gap (the
 * machine was off) runs each date exactly once. Passes never overlap: a tick during a pass asks for
 * one more pass after it. stop() lets the current transformation finish (or its transaction roll
 * back on a hard kill) and starts nothing more. The clock and the tick source are injected.
 */
import cron, { type ScheduledTask } from 'node-cron';
import type { Knex } from 'knex';
import type { Engine } from '../src/db.ts';
import { businessDay, cutoffFor, nextDate } from '../src/time.ts';
import type { Logger } from '../src/logger.ts';
import type { Transform } from '../src/transforms/contract.ts';
import { wrapBatchError } from './errors.ts';
import { HISTORY_TABLE, ensureHistoryTable } from './tables.ts';
import { succeededPairs } from './history.ts';
import { runBatch, type RunOutcome } from './runner.ts';

/** Something that calls `onTick` now and then; node-cron in production, the test in tests. */
export interface TickSource {
  start(onTick: () => void): void;
  stop(): void;
  /** When the alarm (the user's expression, not the safety net) rings next, if known. */
  nextRing?(): Date | null;
}

/**
 * node-cron as the alarm clock: the user's expression, plus an hourly safety net. node-cron 4 never
 * fires "0 2 * * *" on the spring DST night (02:00 does not exist in Stockholm), which would leave
 * that night's run to the next night; the hourly tick runs it at 03:00. Extra ticks are harmless:
 * a pass runs only dates that are due and missing.
 */
export function cronTicks(expression: string, timeZone: string, safetyNet: string | undefined = '0 * * * *'): TickSource {
  let tasks: ScheduledTask[] = [];
  return {
    start(onTick) {
      const expressions = safetyNet && safetyNet !== expression ? [expression, safetyNet] : [expression];
      tasks = expressions.map((pattern, index) => cron.schedule(pattern, () => onTick(), { timezone: timeZone, name: `dualrun-batch-${index}`, noOverlap: true }));
    },
    stop() {
      for (const task of tasks) void task.destroy();
      tasks = [];
    },
    nextRing: () => tasks[0]?.getNextRun() ?? null,
  };
}

export interface SchedulerOptions {
  db: Knex;
  engine: Engine;
  transforms: readonly Transform[];
  logger: Logger;
  ticks: TickSource;
  clock?: () => Date;
  timeZone: string;
  /** "HH:MM" local on the next day. */
  cutoffTime?: string;
  /** How many past business dates (ending with the latest due one) to keep complete. */
  catchUpDays: number;
  onOutcome?: (outcome: RunOutcome) => void;
  /** After each pass (and the catch-up at start): nothing more is due until the next ring. */
  onIdle?: () => void;
}

/** The latest business date whose cut-off has passed at `now`. */
export function latestDueDate(now: Date, timeZone: string, cutoffTime = '02:00'): string {
  let date = businessDay(now, timeZone);
  while (cutoffFor(date, cutoffTime, timeZone).getTime() > now.getTime()) date = nextDate(date, -1);
  return date;
}

export class Scheduler {
  private readonly options: SchedulerOptions;
  private readonly abort = new AbortController();
  private current: Promise<void> = Promise.resolve();
  private passRunning = false;
  private passRequested = false;

  constructor(options: SchedulerOptions) {
    this.options = options;
  }

  /** Runs a catch-up pass now and starts listening to ticks. */
  async start(): Promise<void> {
    await ensureHistoryTable(this.options.db).catch((error: unknown) => {
      throw wrapBatchError(error, HISTORY_TABLE);
    });
    this.options.ticks.start(() => this.tick());
    this.tick();
  }

  /** An alarm went off: run a pass now, or one more after the current one. */
  tick(): void {
    if (this.abort.signal.aborted) return;
    if (this.passRunning) {
      this.passRequested = true;
      return;
    }
    this.passRunning = true;
    this.current = this.loop().finally(() => {
      this.passRunning = false;
    });
  }

  /** Resolves when no pass is running or requested. */
  async idle(): Promise<void> {
    await this.current;
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.options.ticks.stop();
    await this.current;
  }

  private async loop(): Promise<void> {
    do {
      this.passRequested = false;
      try {
        await this.pass();
      } catch (error) {
        this.options.logger.error({ err: error }, 'scheduler pass failed; the next tick retries');
      }
    } while (this.passRequested && !this.abort.signal.aborted);
    if (!this.abort.signal.aborted) this.options.onIdle?.();
  }

  /** Every due date missing a success for some transformation, oldest first. */
  async missing(): Promise<{ date: string; transforms: Transform[] }[]> {
    const { timeZone, cutoffTime, catchUpDays, db } = this.options;
    const latest = latestDueDate((this.options.clock ?? (() => new Date()))(), timeZone, cutoffTime);
    const first = nextDate(latest, -(catchUpDays - 1));
    const done = await succeededPairs(db, first);
    const missing: { date: string; transforms: Transform[] }[] = [];
    for (let date = first; date <= latest; date = nextDate(date)) {
      const todo = this.options.transforms.filter((transform) => !done.has(`${transform.name}|${date}`));
      if (todo.length > 0) missing.push({ date, transforms: todo });
    }
    return missing;
  }

  private async pass(): Promise<void> {
    const { db, engine, logger, cutoffTime } = this.options;
    for (const { date, transforms } of await this.missing()) {
      if (this.abort.signal.aborted) return;
      logger.info({ businessDate: date, transforms: transforms.map((t) => t.name) }, 'running missing batch date');
      await runBatch({ db, engine, transforms, businessDate: date, logger, signal: this.abort.signal, onlyMissing: true, ...(cutoffTime ? { cutoffTime } : {}), ...(this.options.onOutcome ? { onProgress: this.options.onOutcome } : {}) });
    }
  }
}
