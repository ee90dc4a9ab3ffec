/**
 * Chapter 4, fan-out: a second team (marketing) wants the same five outputs in a system of its own.
 * With batch, that is a second nightly extract against the source; with events, a second consumer group
 * on the same topics. Both are measured on the source database as in chapter 1, and on the log: the
 * input topics' messages before and after the second consumer (what the producers had to do for it).
 */
import { DualrunError } from '../../errors.ts';
import type { Transform } from '../../transforms/contract.ts';
import { count, plural, times } from './format.ts';
import { shopDay } from './shop-day.ts';
import type { SourceLoad } from './source-load.ts';
import type { ChapterResult } from './types.ts';
import type { Workspace } from './workspace.ts';

const SECOND = 'marketing';

export interface FanOutMeasured {
  engine: string;
  events: number;
  firstExtract: SourceLoad;
  secondExtract: SourceLoad;
  /** (first + second) / first: what the second extract did to the source's nightly reads. */
  extractRatio: number;
  firstConsumer: SourceLoad & { eventsRead: number };
  secondConsumer: SourceLoad & { eventsRead: number };
  /** Messages on the input topics before the second consumer started, and after it finished. */
  logBefore: number;
  logAfter: number;
}

/** The same transformation, written to outputs of the second team's own. */
const forSecondTeam = (transform: Transform): Transform => ({ ...transform, name: `${SECOND}_${transform.name}` });

export async function chapterFanOut(ws: Workspace, step: (text: string) => void): Promise<Omit<ChapterResult<FanOutMeasured>, 'seconds' | 'ran'>> {
  const { shop } = ws.env;
  step('making a day of the shop');
  const day = await shopDay(shop);
  step(`replaying the day into ${ws.engine} and Kafka`);
  const replayed = await ws.replay(day.events, { until: day.cutoff });
  await ws.analyze();

  const { runBatch } = await import('../../../batch/runner.ts');
  // The batch's run history is made once, before either extract: the two then do the same work.
  const { ensureHistoryTable } = await import('../../../batch/tables.ts');
  await ws.meter.use((db) => ensureHistoryTable(db));
  const extract = async (transforms: Transform[]) => {
    const { result, load } = await ws.meter.measure((db) => runBatch({ db, engine: ws.engine, transforms, businessDate: day.date, cutoff: day.cutoff, logger: ws.env.logger }));
    const failed = result.find((outcome) => 'error' in outcome);
    if (failed && 'error' in failed) throw failed.error;
    return load;
  };
  step('02:00: the nightly batch extract');
  const firstExtract = await extract(shop.transforms);
  step(`02:00: the ${SECOND} team's own nightly extract of the same data`);
  const secondExtract = await extract(shop.transforms.map(forSecondTeam));

  const consume = async (group: string, transforms: Transform[]) => {
    const { result, load } = await ws.meter.measure(async () => (await ws.stream(group, transforms, { untilIdleMs: 1000 })).done());
    if (result.processed !== replayed.events) throw new DualrunError('TEACH', `the consumer ${group} read ${result.processed} of the ${replayed.events} events`, { hint: 'run the chapter again' });
    return { ...load, eventsRead: result.processed };
  };
  step('the streaming job consumes the topics');
  const firstConsumer = await consume('stream', shop.transforms);
  const logBefore = await ws.inputOffsets();
  step(`the ${SECOND} team's consumer group reads the same topics`);
  const secondConsumer = await consume(SECOND, shop.transforms.map(forSecondTeam));
  const logAfter = await ws.inputOffsets();

  const extractRatio = (firstExtract.rowsRead + secondExtract.rowsRead) / firstExtract.rowsRead;
  const measured: FanOutMeasured = { engine: ws.engine, events: replayed.events, firstExtract, secondExtract, extractRatio, firstConsumer, secondConsumer, logBefore, logAfter };
  // Per-table statistics count the source tables alone; MariaDB's session counters also count the job's
  // reads of its run history and the server's own tables, which differ a little from run to run.
  const perTable = firstExtract.perTable !== undefined;
  const doubled = perTable ? 2 : 1.98;
  const holds = firstExtract.rowsRead > 0 && extractRatio >= doubled && firstConsumer.rowsRead === 0 && secondConsumer.rowsRead === 0 && secondConsumer.queries === 0 && logAfter === logBefore;
  const row = (label: string, load: SourceLoad, events: string): string[] => [label, count(load.queries), count(load.rowsRead), events];
  return {
    number: 4,
    slug: 'fan-out',
    title: 'Fan-out',
    question: 'What does a second consumer of the same data cost?',
    story: [
      `A day of the shop (${plural(replayed.events, 'event')}) went into a fresh ${ws.engine} database and the topics ${ws.prefix}.*.`,
      `The nightly extract for the shop's ${shop.transforms.length} outputs read ${plural(firstExtract.rowsRead, 'row')} on the source with ${plural(firstExtract.queries, 'query', 'queries')}. The ${SECOND} team's own extract of the same data, into its own tables, read ${plural(secondExtract.rowsRead, 'row')} more with ${plural(secondExtract.queries, 'query', 'queries')}: the source now does ${times(extractRatio)} the nightly reading.`,
      `The streaming job read the ${plural(firstConsumer.eventsRead, 'event')} on the topics; the ${SECOND} team's consumer group read the same ${plural(secondConsumer.eventsRead, 'event')} into its own outputs, with no change to the topics or to the producer: the input topics held ${plural(logBefore, 'message')} before it and ${count(logAfter)} after. The source read ${count(firstConsumer.rowsRead)} and ${plural(secondConsumer.rowsRead, 'row')} for them.`,
    ],
    figure: {
      caption: 'Load on the source database, per consumer of the shop\'s data',
      header: ['consumer', 'queries on the source', 'rows read on the source', 'events read from the log'],
      rows: [
        row('nightly extract', firstExtract, '—'),
        row(`${SECOND} extract`, secondExtract, '—'),
        row('streaming job', firstConsumer, count(firstConsumer.eventsRead)),
        row(`${SECOND} consumer group`, secondConsumer, count(secondConsumer.eventsRead)),
      ],
      chart: {
        title: 'Rows read on the source database: one consumer, then two',
        unit: 'rows read',
        scale: 'linear',
        bars: [
          { label: 'batch: one extract', value: firstExtract.rowsRead, text: `${count(firstExtract.rowsRead)} rows`, side: 'batch' },
          { label: 'batch: two extracts', value: firstExtract.rowsRead + secondExtract.rowsRead, text: `${count(firstExtract.rowsRead + secondExtract.rowsRead)} rows (${times(extractRatio)})`, side: 'batch' },
          { label: 'events: one consumer', value: firstConsumer.rowsRead, text: `${count(firstConsumer.rowsRead)} rows`, side: 'stream' },
          { label: 'events: two consumers', value: firstConsumer.rowsRead + secondConsumer.rowsRead, text: `${count(firstConsumer.rowsRead + secondConsumer.rowsRead)} rows`, side: 'stream' },
        ],
      },
    },
    lesson: holds
      ? `With an update-in-place source every new consumer is a new extract: the ${SECOND} team's nightly job took the source's nightly reading from ${count(firstExtract.rowsRead)} to ${count(firstExtract.rowsRead + secondExtract.rowsRead)} rows (${times(extractRatio)}), on the database the shop runs on, and every further team adds as much again — and each of them is coupled to the source's tables and schedule on its own account. The events were written once; the second consumer group read all ${count(secondConsumer.eventsRead)} of them without the producer writing one more message (${count(logBefore)} before, ${count(logAfter)} after) and without one query on the source. Consumers are added to the log, not to the database.`
      : `This run does not show the usual picture: the second extract brought the source's reads to ${times(extractRatio)}, the consumers read ${count(firstConsumer.rowsRead)} and ${count(secondConsumer.rowsRead)} rows on the source, and the input topics went from ${count(logBefore)} to ${count(logAfter)} messages.`,
    notes: [`Rows read come from ${firstExtract.source}. The source tables were analysed before the first extract, so both extracts ran the same plans.`],
    claim: {
      text: `a second batch extract ${perTable ? 'at least doubles' : 'doubles (within 1 %, as session counters include reads of the run history and system tables)'} the rows read on the source; a second consumer group reads none and needs no new message`,
      holds,
    },
    measured,
  };
}
