/**
 * Chapter 1, load on the source: the nightly batch job computes the shop's five outputs by querying the
 * legacy tables; the streaming job computes the same five from the topics. The source database's own
 * statistics say what each cost it: queries and rows read during the batch run, and during the streaming
 * run (which never connects to it).
 */
import { DualrunError } from '../../errors.ts';
import { count, plural } from './format.ts';
import { shopDay } from './shop-day.ts';
import type { SourceLoad } from './source-load.ts';
import type { ChapterResult } from './types.ts';
import type { Workspace } from './workspace.ts';

export interface LoadMeasured {
  engine: string;
  events: number;
  batch: SourceLoad & { rowsWritten: number; outputs: number };
  stream: SourceLoad & { eventsRead: number; outputs: number };
}

export async function chapterLoad(ws: Workspace, step: (text: string) => void): Promise<Omit<ChapterResult<LoadMeasured>, 'seconds' | 'ran'>> {
  const { shop } = ws.env;
  step('making a day of the shop');
  const day = await shopDay(shop);
  step(`replaying the day into ${ws.engine} and Kafka`);
  const replayed = await ws.replay(day.events, { until: day.cutoff });
  await ws.analyze();

  step('02:00: the nightly batch job runs its five queries on the legacy tables');
  const { runBatch } = await import('../../../batch/runner.ts');
  const batch = await ws.meter.measure((db) => runBatch({ db, engine: ws.engine, transforms: shop.transforms, businessDate: day.date, cutoff: day.cutoff, logger: ws.env.logger }));
  const failed = batch.result.find((outcome) => 'error' in outcome);
  if (failed && 'error' in failed) throw failed.error;
  const rowsWritten = batch.result.reduce((sum, outcome) => sum + (outcome.status === 'succeeded' ? outcome.rowsWritten : 0), 0);

  step('the streaming job reads the same day from the topics');
  const stream = await ws.meter.measure(async () => {
    const job = await ws.stream('stream', shop.transforms, { untilIdleMs: 1000 });
    return job.done();
  });
  if (stream.result.processed !== replayed.events) {
    throw new DualrunError('TEACH', `the streaming job read ${stream.result.processed} of the ${replayed.events} events on the topics`, { hint: 'run the chapter again; if it repeats, run `dualrun stream run` by hand to see why' });
  }

  const measured: LoadMeasured = {
    engine: ws.engine,
    events: replayed.events,
    batch: { ...batch.load, rowsWritten, outputs: batch.result.length },
    stream: { ...stream.load, eventsRead: stream.result.processed, outputs: shop.transforms.length },
  };
  const b = measured.batch;
  const s = measured.stream;
  const holds = b.rowsRead > 0 && s.rowsRead === 0 && s.queries === 0;
  return {
    number: 1,
    slug: 'load',
    title: 'Load on the source',
    question: 'What does each job cost the database the shop runs on?',
    story: [
      `A day of the shop — ${plural(day.customers, 'customer')}, ${plural(day.orders, 'order')}, ${plural(replayed.events, 'event')} — went into a fresh ${ws.engine} database (updated in place, as the shop's application does) and onto Kafka topics ${ws.prefix}.* (one event per change).`,
      `At 02:00 the nightly batch job computed the shop's ${b.outputs} outputs: it sent ${plural(b.queries, 'query', 'queries')} over ${plural(b.sessions, 'connection')}, and the database read ${plural(b.rowsRead, 'row')} ${b.perTable ? "of the shop's tables" : '(of every table its connections touched, its outputs and run history included)'} to answer them${b.scans !== undefined ? ` (${plural(b.scans, 'table scan')})` : ''}, to write ${plural(b.rowsWritten, 'output row')}.`,
      `The streaming job computed the same ${s.outputs} outputs from the topics: it read ${plural(s.eventsRead, 'event')} from the log, sent ${plural(s.queries, 'query', 'queries')} to the database and opened ${plural(s.sessions, 'connection')} to it; the database read ${plural(s.rowsRead, 'row')} for it.`,
    ],
    figure: {
      caption: 'Load each job put on the legacy database',
      header: ['job', 'queries on the source', 'rows read on the source', 'connections', 'events read from the log'],
      rows: [
        ['nightly batch', count(b.queries), count(b.rowsRead), count(b.sessions), '—'],
        ['streaming', count(s.queries), count(s.rowsRead), count(s.sessions), count(s.eventsRead)],
      ],
      chart: {
        title: 'Rows read on the source database, per consumer',
        unit: 'rows read',
        scale: 'linear',
        bars: [
          { label: 'nightly batch', value: b.rowsRead, text: `${count(b.rowsRead)} rows`, side: 'batch' },
          { label: 'streaming job', value: s.rowsRead, text: `${count(s.rowsRead)} rows (${count(s.eventsRead)} events from the log)`, side: 'stream' },
        ],
      },
    },
    lesson: holds
      ? `Every night the batch job goes back to the source: ${count(b.rowsRead)} rows read by ${count(b.queries)} queries, on the same database the shop's application is writing to, whether one row changed since yesterday or all of them — and the bigger the shop, the bigger the bill, all of it due at 02:00. The streaming job computed the same outputs and the source did not notice: 0 rows, 0 queries, 0 connections. It read ${count(s.eventsRead)} events from the log, which the application wrote once when each change happened; reading the log again costs the database nothing.`
      : `This run does not show the usual picture: the batch job read ${count(b.rowsRead)} rows and the streaming job ${count(s.rowsRead)} rows (${count(s.queries)} queries) on the source. Something else touched the chapter's database while the streaming job ran, or the statistics were not complete (${b.source}).`,
    notes: [
      `Rows read come from ${b.source}; queries from knex's query events of each job's own connections.`,
      ...(s.otherSessions !== undefined ? [`These counters are per connection, so the database's process list was also watched while the streaming job ran (every 100 ms): ${plural(s.otherSessions, 'other session')} on the chapter's database.`] : []),
    ],
    claim: { text: 'the batch job reads rows on the source (> 0); the streaming job reads none (= 0) and sends no query', holds },
    measured,
  };
}
