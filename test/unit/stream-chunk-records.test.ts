// A transaction's records are sent in pieces the broker accepts: each piece's records, encoded as kafkajs
// encodes them, stay under the limit — headers and multi-byte text included — and nothing is lost or reordered.
import { describe, expect, it } from 'vitest';
import { encodeRecord } from '../../src/kafkajs-record-encoding.ts';
import { chunkRecords } from '../../streaming/runtime/runner.ts';
import type { OutRecord } from '../../streaming/tasks/model.ts';

const headers = (i: number) => ({
  'dualrun-source-topic': 'metering.readings',
  'dualrun-source-partition': String(i % 4),
  'dualrun-source-offset': String(1_000_000 + i),
  'dualrun-transform': 'site_hourly_kwh',
  'dualrun-dlq-reason': 'a window that is already final: 2024-04-06 closed at 2024-04-07T00:30:00+10:00',
});

describe('chunkRecords', () => {
  it('keeps each send under the limit as encoded, with headers and multi-byte values, in order', () => {
    const records: OutRecord[] = Array.from({ length: 20_000 }, (_, i) => ({
      topic: i % 3 === 0 ? 'p.late' : 'p.out.site_hourly_kwh',
      key: `["S${i}"]`,
      value: i % 5 === 0 ? null : JSON.stringify({ site: `Zürich ${i}`, note: 'ééé' }),
      ...(i % 3 === 0 ? { headers: headers(i) } : {}),
    }));
    const limit = 64 * 1024;
    const chunks = chunkRecords(records, limit);
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) {
      const encoded = chunk.flatMap(({ messages }) => messages).reduce((sum, message) => sum + encodeRecord({ key: message.key, value: message.value, headers: message.headers ?? {} }).buf.length, 0);
      expect(encoded).toBeLessThanOrEqual(limit);
    }
    const sent = chunks.flatMap((chunk) => chunk.flatMap(({ topic, messages }) => messages.map((message) => `${topic}|${message.key}`)));
    const byTopic = (list: string[], topic: string) => list.filter((entry) => entry.startsWith(`${topic}|`));
    const wanted = records.map((record) => `${record.topic}|${record.key}`);
    expect(sent).toHaveLength(records.length);
    for (const topic of ['p.late', 'p.out.site_hourly_kwh']) expect(byTopic(sent, topic)).toEqual(byTopic(wanted, topic));
  });
});
