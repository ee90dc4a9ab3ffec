/**
 * `dualrun kafka start | stop | status`: the local broker as a background service, remembered in a
 * state file under the cache folder so a later `stop` or `status` (another process) finds it.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../../src/errors.ts';
import type { CommandContext } from '../../src/cli/command.ts';
import { KAFKA_VERSION, provisionKafka } from './provision.ts';
import { startLocalKafka, stopProcess } from './local-kafka.ts';
import { clearState, isRecordedBroker, readRunning, readState, withStartLock, writeState } from '../../src/local-broker-state.ts';

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
        ctx.progress(`starting a local Apache Kafka ${KAFKA_VERSION} broker…`);
        const started = Date.now();
        const broker = await startLocalKafka({ cacheDir: ctx.env.cacheDir, kafkaHome: ctx.env.kafkaHome, logger: ctx.logger, ...(values.heap ? { heap: values.heap } : {}) });
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
      if (isRecordedBroker(state)) await stopProcess(state.pid);
      if (!values['keep-data']) await rm(state.dataDir, { recursive: true, force: true });
      await clearState(cacheDir);
      print({ stopped: true, pid: state.pid, keptData: Boolean(values['keep-data']) }, `stopped the local broker (pid ${state.pid})${values['keep-data'] ? `; data kept in ${state.dataDir}` : ''}`);
      return 0;
    }
    case 'status': {
      const running = await readRunning(cacheDir);
      print(running ? { running: true, ...running } : { running: false }, running ? `running at ${running.brokers} (pid ${running.pid}, since ${running.startedAt})\n  data: ${running.dataDir}\n  log: ${running.logPath}` : 'no local broker is running');
      return 0;
    }
    default:
      throw new UsageError(action ? `unknown kafka action "${action}"` : 'missing kafka action', { hint: 'use dualrun kafka fetch, start, stop or status (see dualrun kafka --help)' });
  }
}
