/**
 * Dead letters of every kind, for any domain's topics: one bad message of each kind the codec refuses
 * (src/model/codec.ts), built from good messages of the domain, each with the exact reason its dead
 * letter must give; and the check that the job dead-lettered each exactly once, naming the very
 * message it was (its topic, partition and offset, found by reading the source topic back).
 */
import { expect } from 'vitest';
import type { DomainModel } from '../../src/model/domain.ts';
import { HEADERS, isDelete } from '../../src/model/events.ts';
import type { TestMessage } from './events.ts';
import { allMessages } from './stream.ts';

/** Marks each bad message so it can be found again on its source topic (decoding ignores other headers). */
export const CASE_HEADER = 'dualrun-test-case';

export interface BadMessage {
  /** `<entity>/<kind>`: which kind, on which topic. */
  label: string;
  message: TestMessage;
  /** The whole `dualrun-dlq-reason` its dead letter must carry. */
  reason: string;
}

const MALFORMED = '{"eventId": oops';
/** Not a key of any entity: a space is not in an id, and it is not the JSON array of a composite key. */
const NOT_A_KEY = 'not a key!';

/**
 * One bad message of each kind for the topic of `entityName`: malformed JSON, an envelope failing its
 * schema, an unknown event type, another entity's event on this topic, a tombstone without headers, a
 * tombstone of a type that is not a delete and, where the entity has a delete, a tombstone whose key is
 * not one of the entity's. `samples` holds a good envelope message of every entity of the domain.
 */
export function badMessages(domain: DomainModel, entityName: string, samples: readonly TestMessage[]): BadMessage[] {
  const entity = domain.entity(entityName)!;
  const sample = samples.find((candidate) => candidate.entity === entityName && candidate.value !== null);
  const stranger = samples.find((candidate) => candidate.entity !== entityName && candidate.value !== null);
  if (!sample || !stranger) throw new Error(`badMessages needs a good envelope message of ${entityName} and of another entity`);
  const envelope = JSON.parse(sample.value!.toString()) as Record<string, unknown>;
  const strangerType = (JSON.parse(stranger.value!.toString()) as { type: string }).type;
  const upsertType = entity.events.find((eventType) => !isDelete(eventType))!.type;
  const deleteType = entity.events.find(isDelete)?.type;
  const known = domain.entities.flatMap((candidate) => candidate.events.map((eventType) => eventType.type)).join(', ');
  const deletes = domain.entities.flatMap((candidate) => candidate.events.filter(isDelete).map((eventType) => eventType.type)).join(', ') || 'none';

  const bad = (kind: string, message: Omit<TestMessage, 'entity'>, reason: string): BadMessage => {
    const label = `${entityName}/${kind}`;
    return { label, message: { ...message, entity: entityName, headers: { ...message.headers, [CASE_HEADER]: label } }, reason };
  };
  const withValue = (value: object | string) => ({ ...sample, value: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)) });
  const tombstone = (key: string, type: string) => ({ ...sample, key: Buffer.from(key), value: null, headers: { ...sample.headers, [HEADERS.type]: type } });
  const list = [
    bad('malformed JSON', withValue(MALFORMED), `malformed JSON: ${jsonError(MALFORMED)}`),
    bad('envelope failing its schema', withValue({ ...envelope, eventTime: 'yesterday' }), 'envelope fails its schema: eventTime: expected an ISO-8601 time with an offset'),
    bad('unknown type', withValue({ ...envelope, type: 'NoSuchEvent' }), `unknown event type "NoSuchEvent" (known: ${known})`),
    bad('wrong topic', { ...stranger }, `event type ${strangerType} does not belong on the ${entityName} topic`),
    bad('tombstone without headers', { ...sample, value: null, headers: {} }, `tombstone without the headers ${HEADERS.eventId}, ${HEADERS.type}, ${HEADERS.eventTime} and a key: cannot tell which delete it is`),
    bad('tombstone of a non-delete type', tombstone(sample.key.toString(), upsertType), `tombstone of event type "${upsertType}", which is not a delete (deletes: ${deletes})`),
  ];
  if (deleteType) list.push(bad('tombstone key not of its entity', tombstone(NOT_A_KEY, deleteType), `tombstone key ${JSON.stringify(NOT_A_KEY)} is not a key of ${entityName} (${entity.key.join(', ')})`));
  return list;
}

function jsonError(text: string): string {
  try {
    JSON.parse(text);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`${text} parses`);
}

/**
 * That `sourceTopic`'s dead-letter topic holds exactly one letter per bad message, with its exact
 * reason, the coordinates of the very message (read back from the source topic) and its key and value.
 */
export async function expectDeadLetters(sourceTopic: string, bad: readonly BadMessage[]): Promise<void> {
  const letters = await allMessages(`${sourceTopic}.dlq`);
  const source = await allMessages(sourceTopic);
  expect(letters.map((letter) => letter.headers['dualrun-dlq-reason']).sort(), sourceTopic).toEqual(bad.map(({ reason }) => reason).sort());
  for (const { label, reason } of bad) {
    const original = source.find((message) => message.headers[CASE_HEADER] === label);
    expect(original, `${label} on ${sourceTopic}`).toBeDefined();
    const letter = letters.find((candidate) => candidate.headers['dualrun-dlq-reason'] === reason);
    expect(letter?.headers, label).toMatchObject({ 'dualrun-source-topic': sourceTopic, 'dualrun-source-partition': String(original!.partition), 'dualrun-source-offset': original!.offset });
    expect([letter!.key, letter!.value], label).toEqual([original!.key ?? '', original!.value]);
  }
}
