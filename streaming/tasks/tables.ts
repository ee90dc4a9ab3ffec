/**
 * What every task of a process shares, read from *all* partitions of the input topics (global, like
 * Kafka Streams' GlobalKTable — the topics themselves are the changelog, so nothing else is stored):
 * the versioned tables of the entities pipelines join and, from the source topics' events, the window
 * closers that give the watermark. Invalid messages are skipped here (they move neither); the task
 * owning their partition dead-letters them.
 */
import { decode, type RawMessage } from '../../src/model/codec.ts';
import { encodeKey, type DomainModel, type EntityModel } from '../../src/model/domain.ts';
import type { ProcessorEnv } from '../../src/pipeline/processor.ts';
import { EntityTables, Watermarks, joinedEntities, pipelineEnv } from '../../src/pipeline/tables.ts';
import type { StreamTransform } from './model.ts';

export class SharedState {
  readonly tables: EntityTables;
  readonly watermarks: Watermarks;
  readonly env: ProcessorEnv;

  constructor(
    readonly domain: DomainModel,
    transforms: readonly StreamTransform[],
  ) {
    this.tables = new EntityTables(domain, joinedEntities(transforms.map((transform) => transform.stream)));
    this.watermarks = new Watermarks(domain.timeZone);
    // Closers exist before the first source event is read: each observes every event of its source.
    for (const { stream } of transforms) if (stream.kind === 'aggregate' && stream.window) this.watermarks.closer(stream);
    this.env = pipelineEnv(domain, this.tables, this.watermarks);
  }

  /** Feeds one message of an input topic (any partition). */
  observe(entity: EntityModel, message: RawMessage): void {
    const closers = this.watermarks.closersOf(entity.name);
    const table = this.tables.wants(entity);
    if (closers.length === 0 && !table) return;
    // Decoded, not read from the headers: a message its task dead-letters moves no watermark (a bad
    // event whose header says it happened in the future would make every later event late).
    const decoded = decode(this.domain, entity, message);
    if (!decoded.ok) return;
    for (const closer of closers) closer.observe(decoded.eventTimeMs, decoded.arrivalMs);
    if (table) this.tables.observe(decoded.eventType, encodeKey(entity, decoded.event.payload), decoded.event, decoded.arrival, decoded.arrivalMs);
  }

  get size(): Record<string, number> {
    return { ...this.tables.size, windows: this.watermarks.windowCount };
  }
}
