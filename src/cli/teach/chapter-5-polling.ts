/**
 * Chapter 5, what polling misses: a polling extract asks the orders table for `updated_at > last_poll`
 * at 12:00 and at 13:00. In between, one order is paid and then shipped (updated twice) and another is
 * hard-deleted. The extract's two answers are compared with the events on the orders topic between the
 * polls, and with log-based capture where it can run (capture.ts).
 */
import type { Knex } from 'knex';
import { localToInstant } from '../../time.ts';
import { startCapture, type CapturedChange } from './capture.ts';
import { clock, count, plural } from './format.ts';
import { arrivedBetween, shopDay, shopEvent, withEvents } from './shop-day.ts';
import type { ChapterResult } from './types.ts';
import type { Workspace } from './workspace.ts';

/** One change made between the polls, and whether each way of looking saw it. */
export interface ChangeSeen {
  eventId: string;
  orderId: string;
  /** "paid", "shipped", or "deleted". */
  change: string;
  at: string;
  inLog: boolean;
  inPoll: boolean;
  /** undefined: no capture ran. */
  inCapture: boolean | undefined;
}

export interface PollingMeasured {
  firstPoll: { at: string; rows: number };
  secondPoll: { at: string; rows: number; returned: { order_id: string; status: string }[] };
  /** Events on the orders topic that arrived between the polls. */
  logEvents: number;
  changes: ChangeSeen[];
  missedByPolling: string[];
  /** Orders the poller's copy still holds that the source no longer has. */
  staleInCopy: string[];
  /** What log-based capture saw of the orders table between the polls (every change, in log order), or why none ran. */
  capture: { name: string; changes: CapturedChange[] } | { unavailable: string[] };
}

interface Poll {
  rows: { order_id: string; status: string }[];
}

/** The polling extract: every order row changed since the last poll. */
async function poll(db: Knex, since: Date): Promise<Poll> {
  const rows = (await db('orders').where('updated_at', '>', since).select('order_id', 'status').orderBy('order_id')) as { order_id: string; status: string }[];
  return { rows };
}

/** For each change: did the second poll (and the poller's copy after it) show it? The pure comparison, shared by log and capture. */
export function seenByPoll(change: { orderId: string; change: string }, later: { orderId: string; change: string }[], secondPoll: Poll, copyAfter: ReadonlyMap<string, string>): boolean {
  if (change.change === 'deleted') return !copyAfter.has(change.orderId);
  // An update is seen when the poll returned the row as that change left it, and nothing changed it after.
  const returned = secondPoll.rows.find((row) => row.order_id === change.orderId);
  return returned?.status === change.change && !later.some((other) => other.orderId === change.orderId);
}

export async function chapterPolling(ws: Workspace, step: (text: string) => void): Promise<Omit<ChapterResult<PollingMeasured>, 'seconds' | 'ran'>> {
  const { shop } = ws.env;
  const { timeZone } = shop.domain;
  step('making a day of the shop');
  const day = await shopDay(shop);
  const at = (time: string, seconds = 0): string => new Date(localToInstant(day.date, time, timeZone).getTime() + seconds * 1000).toISOString();
  const [first, second] = [new Date(at('12:00')), new Date(at('13:00'))];
  const order = (id: string, time: string, customerId: string) =>
    shopEvent(shop.domain, { id: `teach-order-${id}`, type: 'OrderPlaced', eventTime: at(time), arrivalTime: at(time, 20), payload: { orderId: id, customerId, currency: 'EUR', lines: [{ lineNo: 1, productId: 'P1', quantity: 1, unitPrice: '18.00', discountPct: '0' }] } });
  const status = (id: string, time: string, value: string) => shopEvent(shop.domain, { id: `teach-${id}-${value}`, type: 'OrderStatusChanged', eventTime: at(time), arrivalTime: at(time, 5), payload: { orderId: id, status: value } });
  const made = [
    { event: status('A1', '12:10', 'paid'), orderId: 'A1', change: 'paid' },
    { event: shopEvent(shop.domain, { id: 'teach-B1-deleted', type: 'OrderDeleted', eventTime: at('12:20'), arrivalTime: at('12:20', 5), payload: { orderId: 'B1' } }), orderId: 'B1', change: 'deleted' },
    { event: status('A1', '12:40', 'shipped'), orderId: 'A1', change: 'shipped' },
  ];
  // The shop as it stood at noon, two orders of which change between the polls.
  const events = withEvents(arrivedBetween(day.events, undefined, first), [order('A1', '10:00', 'C1'), order('B1', '10:30', 'C2'), ...made.map((m) => m.event)]);

  step(`replaying the shop up to ${clock(first, timeZone)}`);
  await ws.replay(events, { until: first });
  // Started after noon's state is written: its snapshot is that state, and every change after it is one the chapter makes.
  const started = await startCapture(ws, step);
  try {
    step(`${clock(first, timeZone)}: the polling extract runs (updated_at > last poll)`);
    const copy = new Map<string, string>();
    const firstPoll = await ws.meter.use((db) => poll(db, new Date(0)));
    for (const row of firstPoll.rows) copy.set(row.order_id, row.status);

    step(`between the polls: ${made.map((m) => `${m.orderId} ${m.change}`).join(', ')}`);
    // One transaction per change, as the shop's application commits them: what the log holds.
    await ws.replay(events, { after: first, until: second, batchSize: 1 });

    step(`${clock(second, timeZone)}: the polling extract runs again`);
    const { secondPoll, present } = await ws.meter.use(async (db) => ({
      secondPoll: await poll(db, first),
      present: new Set(((await db('orders').select('order_id')) as { order_id: string }[]).map((row) => row.order_id)),
    }));
    for (const row of secondPoll.rows) copy.set(row.order_id, row.status);

    step('reading the orders topic between the polls');
    const log = (await ws.eventsOn('orders')).filter((entry) => entry.arrival > first.toISOString() && entry.arrival <= second.toISOString());
    if (started.capture) step('reading what log-based capture saw of the orders table');
    const captured: CapturedChange[] | undefined = started.capture ? await started.capture.changes('orders') : undefined;

    const changes: ChangeSeen[] = made.map((m, index) => {
      const inLog = log.some((entry) => entry.event.eventId === m.event.event.eventId && (m.change === 'deleted' ? entry.tombstone : entry.event.payload.status === m.change));
      const inCapture = captured?.some((c) => c.key.order_id === m.orderId && (m.change === 'deleted' ? c.op === 'delete' : c.after?.status === m.change));
      return { eventId: m.event.event.eventId, orderId: m.orderId, change: m.change, at: m.event.event.eventTime, inLog, inPoll: seenByPoll(m, made.slice(index + 1), secondPoll, copy), inCapture };
    });
    const staleInCopy = [...copy.keys()].filter((id) => !present.has(id));
    const measured: PollingMeasured = {
      firstPoll: { at: first.toISOString(), rows: firstPoll.rows.length },
      secondPoll: { at: second.toISOString(), rows: secondPoll.rows.length, returned: secondPoll.rows },
      logEvents: log.length,
      changes,
      missedByPolling: changes.filter((c) => !c.inPoll).map((c) => `${c.orderId} ${c.change}`),
      staleInCopy,
      capture: started.capture ? { name: started.capture.name, changes: captured! } : { unavailable: started.reasons },
    };
    return describe(ws, measured, timeZone);
  } finally {
    await started.capture?.stop();
  }
}

/** One captured change as the story tells it: the row's key, what happened, and the status it left. */
function describeCaptured(change: CapturedChange): string {
  const key = Object.values(change.key).join('/');
  return change.op === 'delete' ? `${key} deleted` : `${key} ${change.op === 'create' ? 'inserted' : 'updated'} to ${String(change.after?.status ?? '?')}`;
}

function describe(ws: Workspace, measured: PollingMeasured, timeZone: string): Omit<ChapterResult<PollingMeasured>, 'seconds' | 'ran'> {
  const { changes } = measured;
  const mark = (seen: boolean | undefined): string => (seen === undefined ? 'n/a' : seen ? 'seen' : 'missed');
  const inLog = changes.filter((c) => c.inLog).length;
  const inPoll = changes.filter((c) => c.inPoll).length;
  const capture = 'changes' in measured.capture ? measured.capture : undefined;
  const inCapture = changes.filter((c) => c.inCapture).length;
  const unavailable = 'unavailable' in measured.capture ? measured.capture.unavailable : [];
  const intermediate = changes.filter((c) => c.change !== 'deleted' && !c.inPoll);
  const deletes = changes.filter((c) => c.change === 'deleted');
  const holds = inLog === changes.length && intermediate.length === 1 && deletes.every((c) => !c.inPoll) && inPoll === changes.length - 2 && (capture === undefined || inCapture === changes.length);
  const what = (c: ChangeSeen): string => `${clock(c.at, timeZone)} ${c.orderId} ${c.change}`;
  const returned = measured.secondPoll.returned.map((row) => `${row.order_id} ${row.status}`).join(', ') || 'nothing';
  return {
    number: 5,
    slug: 'polling',
    title: 'What polling misses',
    question: 'What does an extract that polls updated_at see of the changes between two polls?',
    story: [
      `The shop as it stood at ${clock(measured.firstPoll.at, timeZone)} went into a fresh ${ws.engine} database and the topics ${ws.prefix}.*. The polling extract (\`SELECT … FROM orders WHERE updated_at > :last_poll\`) ran at ${clock(measured.firstPoll.at, timeZone)} and copied ${plural(measured.firstPoll.rows, 'order')}.`,
      `Before the next poll: ${changes.map(what).join('; ')}.`,
      `At ${clock(measured.secondPoll.at, timeZone)} the extract ran again and got ${plural(measured.secondPoll.rows, 'row')}: ${returned}. Its copy still holds ${measured.staleInCopy.join(', ') || 'no order'} that the source no longer has.`,
      `The orders topic holds ${plural(measured.logEvents, 'event')} from between the polls: ${changes.filter((c) => c.inLog).map(what).join('; ') || 'none of the changes'}.`,
      capture
        ? `Log-based capture, ${capture.name}, read the database's write-ahead log from ${clock(measured.firstPoll.at, timeZone)} on and saw ${plural(capture.changes.length, 'change')} to orders: ${capture.changes.map(describeCaptured).join('; ') || 'none'} — ${inCapture} of the ${changes.length} changes made.`
        : `Log-based capture (CDC) could not run: ${unavailable.join('; ')}.`,
    ],
    figure: {
      caption: `The changes made between the polls at ${clock(measured.firstPoll.at, timeZone)} and ${clock(measured.secondPoll.at, timeZone)}`,
      header: ['change', 'event log', 'polling extract', 'log-based capture (CDC)'],
      rows: [
        ...changes.map((c) => [what(c), mark(c.inLog), mark(c.inPoll), mark(c.inCapture)]),
        ['all changes', `${inLog} of ${changes.length}`, `${inPoll} of ${changes.length}`, capture ? `${inCapture} of ${changes.length}` : 'unavailable'],
      ],
      chart: {
        title: `Changes seen, of the ${changes.length} made between two polls`,
        unit: 'changes',
        scale: 'linear',
        bars: [
          { label: 'event log', value: inLog, text: `${inLog} of ${changes.length}`, side: 'stream' },
          { label: 'polling extract', value: inPoll, text: `${inPoll} of ${changes.length}`, side: 'batch' },
          ...(capture ? [{ label: 'log-based capture', value: inCapture, text: `${inCapture} of ${changes.length}`, side: 'other' as const }] : []),
        ],
      },
    },
    lesson: holds
      ? `A poll sees end states, one per row, and only of rows that still exist. ${intermediate.map((c) => `${c.orderId} was ${c.change} and changed again before the poll, so the extract never learnt it had been ${c.change}`).join('; ')} — a count of payments, or the time from payment to shipping, is wrong from the start. ${deletes.map((c) => `${c.orderId} was deleted, and a deleted row has no updated_at to be newer than the last poll: the extract's copy still shows it`).join('; ')}, until someone compares the whole table. The event log holds all ${changes.length} changes in order, the delete as a tombstone, because each event is the change itself, not the state it left behind. ${capture ? `Log-based capture saw all ${changes.length} as well: reading the database's own log, not its tables, turns the update-in-place source into events.` : 'Log-based capture (CDC) reads the database\'s own log instead of its tables, which is how an update-in-place source is turned into events when its application cannot publish them; it could not run here, so this run does not show what it sees.'}`
      : `This run does not show the usual picture: the event log showed ${inLog} of ${changes.length} changes and the polling extract ${inPoll} (missed: ${measured.missedByPolling.join(', ') || 'none'}).`,
    notes: [
      ...(capture
        ? [`The capture is dualrun cdc's (Debezium's PostgreSQL connector on a Kafka Connect worker), started on the chapter's database after the noon state was written: its change events are in ${ws.prefix}.cdc.orders, and it stops, with its replication slot, before the database is dropped.`]
        : [`CDC unavailable in this run: ${unavailable.join('; ')}. The chapter starts a capture (dualrun cdc) before the changes when the database can do logical replication, and adds its column.`]),
      `The polling extract asked for updated_at > the previous poll's time (${count(measured.firstPoll.rows)} rows the first time, when there was no previous poll).`,
    ],
    claim: { text: 'the polling extract misses exactly the intermediate update and the delete; the event log has every change', holds },
    measured,
  };
}
