// Replay's writes of rows already in a table, on a small domain made up here (tickets with optional
// fields changed by patches): optional columns set and cleared across batch boundaries end as the
// events say on every engine, in any batch size; on PostgreSQL and PGlite a stored row gets only the
// columns its batch changed, so a column no event of the batch touched keeps what the table holds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { defineDomain, patch, upsert } from '../../src/model/domain.ts';
import { field, optional } from '../../src/model/fields.ts';
import { replay } from '../../src/replay/replay.ts';
import type { ScenarioEvent } from '../../src/scenario/load.ts';
import { engines, freshDatabase, type TestDatabase } from '../support/databases.ts';

const tickets = defineDomain({
  name: 'tickets',
  timeZone: 'UTC',
  entities: {
    tickets: {
      key: ['ticketId'],
      fields: { ticketId: field.id(), title: field.text(), priority: field.integer({ min: 0 }), assignee: optional(field.text()), note: optional(field.text()) },
      table: { name: 'tickets', createdAt: 'created_at', updatedAt: 'updated_at' },
      events: { TicketOpened: upsert(), TicketAssigned: patch('assignee'), TicketNoted: patch('note') },
    },
  },
});

const at = (minute: number): string => new Date(Date.UTC(2024, 5, 3, 10, minute)).toISOString();
let line = 0;
function event(minute: number, type: string, payload: Record<string, unknown>): ScenarioEvent {
  line += 1;
  return { event: { eventId: `e${line}`, type, eventTime: at(minute), schemaVersion: 1, payload }, arrivalTime: at(minute), redelivery: false, source: { file: 'tickets.csv', line } };
}

const events: ScenarioEvent[] = [
  event(1, 'TicketOpened', { ticketId: 'T1', title: 'a', priority: 1, assignee: null, note: null }),
  event(2, 'TicketOpened', { ticketId: 'T2', title: 'b', priority: 2, assignee: 'ann', note: 'n' }),
  event(3, 'TicketAssigned', { ticketId: 'T1', assignee: 'bob' }),
  event(4, 'TicketAssigned', { ticketId: 'T2', assignee: null }),
  event(5, 'TicketNoted', { ticketId: 'T1', note: 'x' }),
  event(5, 'TicketOpened', { ticketId: 'T3', title: 'c', priority: 0, assignee: null, note: null }),
  event(6, 'TicketNoted', { ticketId: 'T2', note: null }),
  event(6, 'TicketAssigned', { ticketId: 'T3', assignee: 'dee' }),
  event(7, 'TicketAssigned', { ticketId: 'T1', assignee: null }),
  event(8, 'TicketOpened', { ticketId: 'T2', title: 'b2', priority: 3, assignee: 'cy', note: null }),
];

const row = (ticketId: string, title: string, priority: number, assignee: string | null, note: string | null, created: number, updated: number) => ({
  ticket_id: ticketId, title, priority, assignee, note, created_at: at(created), updated_at: at(updated),
});

async function readTickets(db: Knex): Promise<ReturnType<typeof row>[]> {
  const rows = await db('tickets').select('*').orderBy('ticket_id');
  return rows.map((r: Record<string, unknown>) => ({
    ticket_id: r.ticket_id as string, title: r.title as string, priority: Number(r.priority), assignee: r.assignee as string | null, note: r.note as string | null,
    created_at: new Date(r.created_at as string).toISOString(), updated_at: new Date(r.updated_at as string).toISOString(),
  }));
}

describe.each(engines)('replay of changes to stored rows into %s', (engine) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await freshDatabase(engine);
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('sets and clears optional columns across batch boundaries, in any batch size', async () => {
    for (const [index, batchSize] of [1, 2, 3, 4, 100].entries()) {
      await replay({ domain: tickets, events, db: database.db, createSchema: index === 0, reset: index > 0, until: new Date(at(4)), batchSize });
      expect(await readTickets(database.db), `batch size ${batchSize}, up to minute 4`).toEqual([row('T1', 'a', 1, 'bob', null, 1, 3), row('T2', 'b', 2, null, 'n', 2, 4)]);
      await replay({ domain: tickets, events, db: database.db, after: new Date(at(4)), batchSize });
      expect(await readTickets(database.db), `batch size ${batchSize}`).toEqual([row('T1', 'a', 1, null, 'x', 1, 7), row('T2', 'b2', 3, 'cy', null, 2, 8), row('T3', 'c', 0, 'dee', null, 5, 6)]);
    }
  });

  // MariaDB has no unnest: its rows are upserted whole (INSERT … ON DUPLICATE KEY UPDATE), so there a
  // column changed by hand comes back as replay knows it; elsewhere it stays until an event changes it.
  it(engine === 'mysql' ? 'writes whole rows: a column changed by hand comes back as replay knows it' : 'writes only the columns a batch changed: the others keep what the table holds', async () => {
    await replay({ domain: tickets, events, db: database.db, reset: true, until: new Date(at(2)) });
    // Columns no later event touches until T2 is opened again, changed behind replay's back.
    await database.db('tickets').update({ title: 'by hand', priority: 99 });
    // One batch: T1 gets an assignee and a note, T2 loses both (different columns, one UPDATE each).
    await replay({ domain: tickets, events, db: database.db, after: new Date(at(2)), until: new Date(at(6)) });
    const t1: [string, number] = engine === 'mysql' ? ['a', 1] : ['by hand', 99];
    const t2: [string, number] = engine === 'mysql' ? ['b', 2] : ['by hand', 99];
    expect(await readTickets(database.db)).toEqual([row('T1', ...t1, 'bob', 'x', 1, 5), row('T2', ...t2, null, null, 2, 6), row('T3', 'c', 0, 'dee', null, 5, 6)]);
    // T2 opened again carries a title and priority that differ from what replay wrote: those are written.
    await replay({ domain: tickets, events, db: database.db, after: new Date(at(6)) });
    expect(await readTickets(database.db)).toEqual([row('T1', ...t1, null, 'x', 1, 7), row('T2', 'b2', 3, 'cy', null, 2, 8), row('T3', 'c', 0, 'dee', null, 5, 6)]);
  });

  // A row replay stored, deleted by hand: MariaDB's upsert writes it again whole; an UPDATE of the
  // changed columns would find nothing and lose the batch's change to it, so there it is refused.
  it(engine === 'mysql' ? 'writes a row deleted by hand again, whole' : 'refuses a batch that changes a row deleted by hand, and writes none of it', async () => {
    await replay({ domain: tickets, events, db: database.db, reset: true, until: new Date(at(2)) });
    await database.db('tickets').where('ticket_id', 'T1').delete();
    const next = replay({ domain: tickets, events, db: database.db, after: new Date(at(2)), until: new Date(at(6)) });
    if (engine === 'mysql') {
      await next;
      expect((await readTickets(database.db)).map((r) => [r.ticket_id, r.assignee, r.note])).toEqual([['T1', 'bob', 'x'], ['T2', null, null], ['T3', 'dee', null]]);
      return;
    }
    await expect(next).rejects.toThrow(expect.objectContaining({ table: 'tickets', message: expect.stringMatching(new RegExp(`on ${engine} failed and was rolled back: 1 row\\(s\\) of tickets that replay wrote earlier are gone \\(ticket_id = \\(T1\\)\\)`)), hint: expect.stringContaining('something else deleted them') }));
    // The batch rolled back: T2 keeps what the first step wrote, T3 was not opened.
    expect(await readTickets(database.db)).toEqual([row('T2', 'b', 2, 'ann', 'n', 2, 2)]);
  });
});
