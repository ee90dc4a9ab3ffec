/**
 * `dualrun kafka start | stop | status`: the local broker as a background service, remembered in a
 * state file under the cache folder so a later `stop` or `status` (another process) finds it.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { InterruptedError, UsageError } from '../../src/errors.ts';
import type { CommandContext } from '../../src/cli/command.ts';
import { KAFKA_VERSION, provisionKafka } from './provision.ts';
import { startLocalKafka, stopProcess } from './local-kafka.ts';
import { forgetBroker, isRecordedBroker, readDead, readRunning, readState, withStartLock, writeState, type LocalKafkaInfo } from '../../src/local-broker-state.ts';

export const help = `dualrun kafka — a local single-node Apache Kafka ${KAFKA_VERSION} broker (KRaft) on 127.0.0.1

Usage:
  dualrun kafka fetch [--refresh]
  dualrun kafka start [--json] [--heap 768m] [--refresh]
  dualrun kafka stop [--json] [--keep-data]
  dualrun kafka status [--json]

fetch    only fetches the jars (Kafka and its perf tools) into the cache, e.g. while provisioning CI.
start    fetches the Kafka jars from Maven Central once (into $DUALRUN_CACHE_DIR, default ~/.cache/dualrun),
         formats fresh storage, starts the broker in the background and waits until it answers.
         If one already runs, says where and starts no second one. --refresh fetches the jars again.
stop     SIGTERM, then SIGKILL after 20 s; removes the broker's data unless --keep-data.
status   whether the broker runs, and its address, pid, data folder and log.

Environment:
  KAFKA_HOME      use the jars of an existing Kafka distribution instead of fetching them
  KAFKA_BROKERS   other commands use this cluster and never start a local broker
  JAVA_HOME       the Java 17+ runtime to run the broker with (default: java on PATH)

--json prints one JSON object (start: brokers, pid, dataDir, logPath, startedAt).`;

const options = {
  json: { type: 'boolean' },
  heap: { type: 'string' },
  refresh: { type: 'boolean' },
  'keep-data': { type: 'boolean' },
} as const;

export async function run(ctx: CommandContext): Promise<number> {
  const { values, positionals } = ctx.parse(options);
  const action = positionals[0];
  const { cacheDir } = ctx.env;
  const print = (info: object, text: string): void => ctx.out(values.json ? JSON.stringify(info) : text);

  if (values.refresh && (action === 'fetch' || action === 'start')) {
    const running = await readRunning(cacheDir);
    // Its class loader still reads those jars.
    if (running) throw new UsageError(`--refresh: a local broker runs from these jars (pid ${running.pid})`, { hint: 'stop it first with dualrun kafka stop' });
    await rm(join(ctx.env.cacheDir, `kafka-${KAFKA_VERSION}`), { recursive: true, force: true });
  }
  switch (action) {
    case 'fetch': {
      const jars = await provisionKafka({ cacheDir: ctx.env.cacheDir, kafkaHome: ctx.env.kafkaHome, logger: ctx.logger });
      ctx.out(`Apache Kafka ${KAFKA_VERSION} jars ready in ${jars.libs} (${jars.source})`);
      return 0;
    }
    case 'start':
      // Under the start lock: a concurrent start waits, then finds this one's broker.
      return withStartLock(cacheDir, async () => {
        const running = await readRunning(cacheDir);
        if (running) {
          print({ ...running, alreadyRunning: true }, `a local broker already runs at ${running.brokers} (pid ${running.pid}); not starting a second one`);
          return 0;
        }
        const dead = await readDead(cacheDir);
        if (dead) {
          await forgetBroker(cacheDir, dead);
          ctx.progress(`the local broker started ${dead.startedAt} (pid ${dead.pid}) had died; removed its data (${dead.dataDir})`);
        }
        ctx.progress(`starting a local Apache Kafka ${KAFKA_VERSION} broker…`);
        const started = Date.now();
        const broker = await startInterruptibly(ctx, { cacheDir: ctx.env.cacheDir, kafkaHome: ctx.env.kafkaHome, logger: ctx.logger, ...(values.heap ? { heap: values.heap } : {}) });
        const { stop: _stop, ...info } = broker;
        await writeState(cacheDir, info);
        print(info, `broker up at ${info.brokers} (pid ${info.pid}) in ${((Date.now() - started) / 1000).toFixed(1)} s\n  export KAFKA_BROKERS=${info.brokers}\n  log: ${info.logPath}`);
        return 0;
      });
    case 'stop': {
      const state = await readState(cacheDir);
      if (!state) {
        print({ stopped: false, reason: 'not running' }, 'no local broker is running');
        return 0;
      }
      // Only the process we recorded: after a reboot its pid may be anyone's.
      const alive = isRecordedBroker(state);
      if (alive) await stopProcess(state.pid);
      const keepData = Boolean(values['keep-data']);
      await forgetBroker(cacheDir, state, { keepData });
      const what = alive ? `stopped the local broker (pid ${state.pid})` : `the local broker (pid ${state.pid}) had already stopped (killed or crashed)`;
      print({ stopped: true, pid: state.pid, keptData: keepData, ...(alive ? {} : { alreadyDead: true }) }, `${what}; ${keepData ? `data kept in ${state.dataDir}` : `removed its data (${state.dataDir})`}`);
      return 0;
    }
    case 'status': {
      const running = await readRunning(cacheDir);
      if (running) {
        print({ running: true, ...running }, `running at ${running.brokers} (pid ${running.pid}, since ${running.startedAt})\n  data: ${running.dataDir}\n  log: ${running.logPath}`);
        return 0;
      }
      const dead = await readDead(cacheDir);
      print(dead ? { running: false, died: dead } : { running: false }, dead ? describeDead(dead) : 'no local broker is running');
      return 0;
    }
    default:
      throw new UsageError(action ? `unknown kafka action "${action}"` : 'missing kafka action', { hint: 'use dualrun kafka fetch, start, stop or status (see dualrun kafka --help)' });
  }
}

function describeDead(dead: LocalKafkaInfo): string {
  return `no local broker is running: the one started ${dead.startedAt} (pid ${dead.pid}) has died\n  log: ${dead.logPath}\n  dualrun kafka stop removes its data (${dead.dataDir}); dualrun kafka start starts a fresh one`;
}

/** Starts the broker; Ctrl-C while it starts stops it and removes its data folder (else both were left behind). */
async function startInterruptibly(ctx: CommandContext, options: Parameters<typeof startLocalKafka>[0]): Promise<Awaited<ReturnType<typeof startLocalKafka>>> {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    ctx.progress(`${signal}: stopping the broker being started and removing its data…`);
    controller.abort(new InterruptedError(signal, 'the broker was stopped while starting; nothing is left running and its data folder is removed', { hint: 'run dualrun kafka start again' }));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await startLocalKafka({ ...options, signal: controller.signal });
  } catch (error) {
    // The error of whatever was cut short (a format run killed, a probe) is the interruption's.
    throw controller.signal.aborted ? controller.signal.reason : error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
