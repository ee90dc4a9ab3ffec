/**
 * `dualrun stream run | status`: the streaming job and a look at it. `run` joins the consumer group
 * and runs until SIGTERM/SIGINT (finish the batch, commit, leave the group) or, with --until-idle,
 * until the group has caught up and been idle. `status` shows lag per partition and the figures the
 * running instances publish (events/s, state size, dead letters, late events).
 */
import '../src/kafkajs-fixes.ts';
import { resolveBrokers } from '../src/cli/brokers.ts';
import type { CommandContext } from '../src/cli/command.ts';
import { DualrunError, UnavailableError, UsageError } from '../src/errors.ts';
import { DEFAULT_SESSION_TIMEOUT_MS, StreamRunner, kafkaErrorType, type RunMetrics } from './runtime/runner.ts';
import { readStatus } from './runtime/status.ts';
import { createSink } from './runtime/knex-sink.ts';
import { selectTransforms } from '../src/transforms/index.ts';
import type { CdcBridge } from './runtime/cdc-bridge.ts';

export const help = `dualrun stream — the Kafka streaming job of the config's transformations (exactly-once in effect)

Usage:
  dualrun stream run [--transform NAME…] [--group ID] [--from-beginning] [--topic-prefix P] [--brokers LIST]
                     [--until-idle SECONDS] [--sink-db URL] [--partitions N] [--session-timeout MS]
                     [--source events|cdc]
  dualrun stream status [--group ID] [--topic-prefix P] [--brokers LIST] [--json]

run       joins consumer group --group (default dualrun-stream) on the domain's input topics <prefix>.<entity topic>
          and writes each transformation to the compacted topic <prefix>.out.<name> (key: JSON array of the key
          columns; value: the row as JSON; tombstone when a key disappears). Bad events go to <topic>.dlq with
          the reason and source topic/partition/offset in headers; changes to a day window that is already final
          go to <prefix>.late. SIGTERM finishes the current batch, commits and leaves the group.
  --transform NAME     run only these (repeatable; default all of dualrun.config.ts's, or the built-in example domain's)
  --from-beginning     a new group starts at the earliest offset (default: latest — see DESIGN.md 4.8)
  --topic-prefix P     topic prefix (default the domain's name)
  --brokers LIST       host:port,… (default KAFKA_BROKERS, else the broker started by dualrun kafka start)
  --until-idle SECONDS stop once every input partition is committed to its end and nothing arrived for SECONDS
  --sink-db URL        also upsert each output into table stream_<name> (postgres://…, mysql://…, pglite:…)
  --partitions N       partitions for input topics that do not exist yet (default 4)
  --session-timeout MS how long the group waits for a silent instance before its partitions go to the others
                       (default 30000, kafkajs's; the broker allows group.min.session.timeout.ms to …max…, 6000 to 1800000 by default)
  --source cdc         the input is the legacy database's change events that \`dualrun cdc start\` captures
                       (<prefix>.cdc.<table>): each committed transaction, once whole, is folded into the domain's
                       events (child rows into their parent) and written to the input topics, exactly-once, before
                       the job reads them. Default: events (the input topics as the application or replay writes them)
status    lag per partition of the group, and per running instance: events/s, state size, dead letters, late.
  --json               one JSON object

Progress (events, events/s, dead letters) goes to stderr every 10 s; --verbose logs JSON figures too.`;

const options = {
  transform: { type: 'string', multiple: true },
  group: { type: 'string' },
  'from-beginning': { type: 'boolean' },
  'topic-prefix': { type: 'string' },
  brokers: { type: 'string' },
  'until-idle': { type: 'string' },
  'sink-db': { type: 'string' },
  partitions: { type: 'string' },
  'session-timeout': { type: 'string' },
  source: { type: 'string' },
  json: { type: 'boolean' },
  verbose: { type: 'boolean' },
} as const;

export async function run(ctx: CommandContext): Promise<number> {
  const { values, positionals } = ctx.parse(options);
  const brokers = await resolveBrokers(values.brokers, ctx.env);
  if (!brokers) throw new UnavailableError('kafka', 'no Kafka cluster given and no local broker running', { hint: 'start one with dualrun kafka start, or pass --brokers / set KAFKA_BROKERS' });
  const group = values.group ?? 'dualrun-stream';
  const topicPrefix = values['topic-prefix'] ?? ctx.env.topicPrefix ?? ctx.project.domain.name;
  switch (positionals[0]) {
    case 'run': {
      const untilIdle = values['until-idle'] === undefined ? undefined : positiveNumber('--until-idle', values['until-idle']);
      const partitions = values.partitions === undefined ? ctx.env.partitions : positiveNumber('--partitions', values.partitions);
      const sessionTimeout = values['session-timeout'] === undefined ? undefined : wholeMilliseconds('--session-timeout', values['session-timeout']);
      const transforms = selectTransforms(values.transform ?? [], ctx.project.transforms);
      const source = values.source ?? 'events';
      if (source !== 'events' && source !== 'cdc') throw new UsageError(`--source must be events or cdc (got ${JSON.stringify(source)})`, { hint: 'use --source cdc to run on the change events dualrun cdc start captures' });
      const sink = values['sink-db'] ? await createSink(values['sink-db'], transforms) : undefined;
      const bridge = source === 'cdc' ? await startBridge(ctx, { brokers, group, topicPrefix, partitions, untilIdleMs: untilIdle === undefined ? undefined : untilIdle * 1000 }) : undefined;
      const runner = new StreamRunner({
        domain: ctx.project.domain,
        brokers,
        group,
        topicPrefix,
        transforms,
        fromBeginning: values['from-beginning'] ?? false,
        ...(untilIdle === undefined ? {} : { untilIdleMs: untilIdle * 1000 }),
        ...(partitions === undefined ? {} : { partitions }),
        ...(sessionTimeout === undefined ? {} : { sessionTimeoutMs: sessionTimeout }),
        ...(sink ? { sink } : {}),
        logger: ctx.logger,
        onMetrics: (m: RunMetrics) => ctx.progress(`stream ${m.instance}: ${m.processed} events, ${m.eventsPerSecond}/s, dead letters ${m.deadLetters}, late ${m.late}, duplicates ${m.duplicates}, partitions ${m.partitions.length}`),
      });
      const stop = () => void runner.stop();
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      try {
        await runner.start();
        ctx.progress(`stream: group ${group} running on ${brokers.join(',')} (${runner.instance})`);
        await runner.done;
      } finally {
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
        await bridge?.stop();
        await sink?.close();
      }
      if (runner.failure && kafkaErrorType(runner.failure) === 'INVALID_SESSION_TIMEOUT') {
        throw new UsageError(`--session-timeout ${sessionTimeout ?? DEFAULT_SESSION_TIMEOUT_MS}: the broker refuses it (${runner.failure.message})`, { hint: 'give one inside the broker\'s group.min.session.timeout.ms and group.max.session.timeout.ms (6000 to 1800000 by default)' });
      }
      if (runner.failure instanceof DualrunError) throw runner.failure;
      if (runner.failure) throw new UnavailableError(`kafka ${brokers.join(',')}`, `the streaming job stopped: ${runner.failure.message}`, { cause: runner.failure, hint: 'see the log above; restarting resumes from the last committed batch' });
      const final = runner.metrics();
      ctx.out(values.json ? JSON.stringify(final) : `stream: stopped after ${final.processed} events (dead letters ${final.deadLetters}, late ${final.late}, duplicates ${final.duplicates})`);
      return 0;
    }
    case 'status': {
      const status = await readStatus({ domain: ctx.project.domain, brokers, group, topicPrefix });
      if (values.json) ctx.out(JSON.stringify(status));
      else ctx.out(formatStatus(status));
      return 0;
    }
    default:
      throw new UsageError(positionals[0] ? `unknown stream action "${positionals[0]}"` : 'missing stream action', { hint: 'use dualrun stream run or dualrun stream status (see dualrun stream --help)' });
  }
}

/**
 * The CDC stage in front of the job. With --until-idle it first folds everything captured so far, so the
 * job's own idle test sees all of it; otherwise both run on, side by side.
 */
async function startBridge(ctx: CommandContext, { brokers, group, topicPrefix, partitions, untilIdleMs }: { brokers: string[]; group: string; topicPrefix: string; partitions: number | undefined; untilIdleMs: number | undefined }): Promise<CdcBridge> {
  const { CdcBridge } = await import('./runtime/cdc-bridge.ts');
  const bridge = new CdcBridge({ domain: ctx.project.domain, brokers, topicPrefix, group, partitions: partitions ?? 4, logger: ctx.logger });
  await bridge.start();
  if (untilIdleMs !== undefined) {
    await bridge.untilIdle(untilIdleMs);
    const figures = bridge.figures();
    ctx.progress(`cdc: ${figures.transactions} transactions folded into ${figures.events} events`);
  }
  return bridge;
}

function formatStatus(status: Awaited<ReturnType<typeof readStatus>>): string {
  const lines = [`group ${status.group}: total lag ${status.totalLag}`];
  for (const { topic, partition, committed, end, lag } of status.lag) lines.push(`  ${topic}[${partition}] committed ${committed} end ${end} lag ${lag}`);
  if (status.instances.length === 0) lines.push('no instance has reported figures');
  for (const m of status.instances) {
    lines.push(`instance ${m.instance} (${m.live ? 'live' : 'stopped'}, at ${m.at}): ${m.processed} events, ${m.eventsPerSecond}/s, dead letters ${m.deadLetters}, late ${m.late}, duplicates ${m.duplicates}`);
    lines.push(`  state: ${Object.entries(m.state).map(([k, v]) => `${k} ${v}`).join(', ')}; partitions ${m.partitions.join(' ')}`);
  }
  return lines.join('\n');
}

function positiveNumber(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new UsageError(`${flag} must be a positive number (got ${JSON.stringify(text)})`, { hint: `for example ${flag} 5` });
  return value;
}

function wholeMilliseconds(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0) throw new UsageError(`${flag} must be a whole number of milliseconds (got ${JSON.stringify(text)})`, { hint: `for example ${flag} 10000` });
  return value;
}
