/**
 * The run's input events, for explanations: a scenario's events (in arrival order) or the events read
 * back from the input topics of any domain (`<prefix>.<entity topic>`, headers carrying event id,
 * type, event time and arrival time; a tombstone's key names its row). One delivery per message: a
 * redelivered event id appears twice, the later copy marked as a redelivery. A message that is not a
 * valid event is an EventError naming its topic, partition and offset.
 */
import { EventError } from '../src/errors.ts';
import { decode, topicOf } from '../src/model/codec.ts';
import type { DomainModel } from '../src/model/domain.ts';
import type { Delivery } from '../src/model/events.ts';
import { readTopic } from './kafka.ts';

/** The input events read back from the input topics, in arrival order (ties: entity order, then offset order). */
export async function readInputEvents(domain: DomainModel, brokers: string[], prefix: string): Promise<Delivery[]> {
  const deliveries: (Delivery & { order: number })[] = [];
  let order = 0;
  for (const entity of domain.entities) {
    const topic = topicOf(entity, prefix);
    await readTopic(brokers, topic, (messages) => {
      for (const { partition, message } of messages) {
        const decoded = decode(domain, entity, message);
        if (!decoded.ok) throw new EventError(topic, partition, message.offset, `not an input event: ${decoded.reason}`, { hint: 'publish input events with dualrun replay (a bad event belongs on the dead-letter topic)' });
        deliveries.push({ event: decoded.event, arrivalTime: decoded.arrival, order: order++ });
      }
    });
  }
  deliveries.sort((a, b) => a.arrivalTime.localeCompare(b.arrivalTime) || a.order - b.order);
  const seen = new Set<string>();
  return deliveries.map(({ event, arrivalTime }) => {
    const redelivery = seen.has(event.eventId);
    seen.add(event.eventId);
    return { event, arrivalTime, redelivery };
  });
}

/** Marks repeats of an earlier event id as redeliveries (a scenario's events come marked already). */
export function markRedeliveries(deliveries: Iterable<Delivery>): Delivery[] {
  const seen = new Set<string>();
  return [...deliveries].map((delivery) => {
    const redelivery = delivery.redelivery ?? seen.has(delivery.event.eventId);
    seen.add(delivery.event.eventId);
    return { ...delivery, redelivery };
  });
}
