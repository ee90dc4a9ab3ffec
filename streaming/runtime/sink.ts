/**
 * Optional sink: upserts each output row into `stream_<name>` through knex (delete on tombstone).
 * Written before the Kafka transaction commits; since a replayed batch recomputes the same rows,
 * the table ends equal to the output topics' final values.
 */
import type { OutRecord } from '../tasks/model.ts';

export interface OutputSink {
  write(records: OutRecord[]): Promise<void>;
  close(): Promise<void>;
}
