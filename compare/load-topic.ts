/**
 * A compacted output topic as a table: latest value per key, tombstones delete (what compaction
 * would leave). Key = JSON array of the key columns' values, value = JSON object of all columns
 * (the pinned convention). A message that breaks it is an EventError naming topic/partition/offset.
 */
import { EventError } from '../src/errors.ts';
import type { Duck } from './duck.ts';
import { readTopic } from './kafka.ts';
import { TextTableWriter, asText, type Loaded } from './load.ts';

export async function loadOutputTopic(duck: Duck, table: string, brokers: string[], topic: string, declaredColumns?: readonly string[]): Promise<Loaded> {
  const latest = new Map<string, Record<string, unknown> | null>();
  await readTopic(brokers, topic, (messages) => {
    for (const { partition, message } of messages) {
      const where = (what: string) => new EventError(topic, partition, message.offset, what, { hint: 'output messages have a JSON-array key and a JSON-object value (or a null value for a deletion)' });
      if (!message.key) throw where('message without a key');
      const key = message.key.toString('utf8');
      if (message.value === null) {
        latest.delete(key);
        continue;
      }
      let value: unknown;
      try {
        value = JSON.parse(message.value.toString('utf8'));
      } catch {
        throw where('value is not JSON');
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw where('value is not a JSON object');
      latest.set(key, value as Record<string, unknown>);
    }
  });
  // Declared columns first, then any the messages carry beyond them (the schema diff reports those).
  const columns = [...new Set([...(declaredColumns ?? []), ...[...latest.values()].flatMap((value) => Object.keys(value ?? {}))])];
  const writer = new TextTableWriter(duck, table, columns);
  await writer.open();
  const rows: (string | null)[][] = [];
  for (const value of latest.values()) rows.push(columns.map((column) => asText(value?.[column])));
  writer.append(rows);
  return writer.close();
}
