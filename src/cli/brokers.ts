/**
 * Which Kafka cluster a command talks to, decided the same way everywhere: `--brokers`, else
 * KAFKA_BROKERS (or kafka.brokers in dualrun.config.ts), else the local broker `dualrun kafka start`
 * left running.
 */
import { brokersSchema, type EnvConfig } from '../config.ts';
import { UsageError } from '../errors.ts';
import { readRunning } from '../local-broker-state.ts';

export function parseBrokersFlag(value: string, flag = '--brokers'): string[] {
  const parsed = brokersSchema.safeParse(value);
  if (!parsed.success) throw new UsageError(`${flag} ${parsed.error.issues[0]?.message ?? 'is invalid'} (got ${JSON.stringify(value)})`, { hint: `for example ${flag} 127.0.0.1:9092` });
  return parsed.data;
}

export async function resolveBrokers(flag: string | undefined, env: EnvConfig): Promise<string[] | undefined> {
  if (flag !== undefined) return parseBrokersFlag(flag);
  if (env.kafkaBrokers) return env.kafkaBrokers;
  const running = await readRunning(env.cacheDir);
  return running ? [running.brokers] : undefined;
}
