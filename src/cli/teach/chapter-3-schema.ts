/**
 * Chapter 3, schema coupling: at noon the team that owns the legacy database renames customers.region
 * to sales_region (their application now writes that column). The streaming job keeps running on the
 * events, whose contract did not change; that night `dualrun batch run` fails with the column's name.
 * Then the fix on each side: the batch job's SQL is edited wherever it named the column, and the night
 * is run again; the streaming side needs none. What each fix touched is counted, not told.
 */
import type { Knex } from 'knex';
import type { CommandContext } from '../command.ts';
import { parseFlags } from '../command.ts';
import { readEnvConfig } from '../../config.ts';
import { validateConfig } from '../../config-file.ts';
import { DualrunError, ExitCode, messageOf } from '../../errors.ts';
import { silentLogger } from '../../logger.ts';
import { dayBounds, localToInstant } from '../../time.ts';
import type { BatchContext, Transform } from '../../transforms/contract.ts';
import { clock, count, plural } from './format.ts';
import { shopDay, shopEvent, withEvents } from './shop-day.ts';
import { columnReferences, renameColumnReferences } from './sql-columns.ts';
import type { ChapterResult } from './types.ts';
import type { Workspace } from './workspace.ts';

const TABLE = 'customers';
const COLUMN = 'region';
const RENAMED = 'sales_region';

export interface SchemaMeasured {
  table: string;
  column: string;
  renamedTo: string;
  batch: {
    /** What `dualrun batch run` for the night returned and printed. */
    exitCode: number;
    message: string;
    failed: string[];
    succeeded: string[];
    /** The fix: transformations whose SQL named the column, and how many references were changed. */
    fixedTransforms: string[];
    referencesChanged: number;
    /** The night run again with the fixed SQL. */
    rerunSucceeded: string[];
    rerunRowsWritten: number;
    /** The new customer's order in the fixed night's orders_enriched: its region. */
    newOrderRegion: string | null;
  };
  stream: {
    /** Events it processed after the rename, and its dead letters and failure meanwhile. */
    eventsAfterRename: number;
    deadLetters: number;
    failed: boolean;
    /** Orders in its orders_enriched output at the end, and how many carry a region. */
    ordersInOutput: number;
    ordersWithRegion: number;
    /** Schema versions of the events on the topics, and the customer events that arrived after the rename. */
    schemaVersions: number[];
    customerEventsWithRegion: number;
    customerEvents: number;
    /** The new customer's order in its orders_enriched: its region. */
    newOrderRegion: string | null;
    fixedTransforms: string[];
  };
}

export async function chapterSchema(ws: Workspace, step: (text: string) => void): Promise<Omit<ChapterResult<SchemaMeasured>, 'seconds' | 'ran'>> {
  const { shop } = ws.env;
  const { timeZone } = shop.domain;
  step('making a day of the shop');
  const day = await shopDay(shop);
  const noon = localToInstant(day.date, '12:00', timeZone);
  // After the rename a new customer signs up and orders: the application writes sales_region to its
  // table and publishes the same event as before, which carries region.
  const signUp = localToInstant(day.date, '13:00', timeZone);
  const ordered = localToInstant(day.date, '15:00', timeZone);
  const newCustomer = { customerId: 'C900', name: 'Nora Nilsson', region: 'west', tier: 'silver' };
  const customerEvent = shopEvent(shop.domain, { id: 'teach-customer-C900', type: 'CustomerUpserted', eventTime: signUp.toISOString(), arrivalTime: new Date(signUp.getTime() + 5000).toISOString(), payload: newCustomer });
  const orderEvent = shopEvent(shop.domain, {
    id: 'teach-order-T900',
    type: 'OrderPlaced',
    eventTime: ordered.toISOString(),
    arrivalTime: new Date(ordered.getTime() + 20_000).toISOString(),
    payload: { orderId: 'T900', customerId: newCustomer.customerId, currency: 'EUR', lines: [{ lineNo: 1, productId: 'P2', quantity: 1, unitPrice: '22.50', discountPct: '0' }] },
  });
  const events = withEvents(day.events, [customerEvent, orderEvent]);
  step('replaying the morning; starting the streaming job');
  const morning = await ws.replay(events, { until: noon });
  const job = await ws.stream('stream', shop.transforms);
  let afternoon: Awaited<ReturnType<Workspace['replay']>>;
  let metrics: ReturnType<typeof job.metrics>;
  let processedAtRename: number;
  try {
    await job.waitProcessed(morning.events);
    step(`${clock(noon, timeZone)}: the database team renames ${TABLE}.${COLUMN} to ${RENAMED}`);
    processedAtRename = job.metrics().processed;
    await ws.meter.use((db) => db.schema.alterTable(TABLE, (table) => table.renameColumn(COLUMN, RENAMED)));
    step('the afternoon goes on: a new customer, orders, into the database and onto the topics');
    afternoon = await ws.replay(events, { after: noon, until: day.cutoff, db: false });
    await ws.replay(events.filter((event) => event !== customerEvent), { after: noon, until: day.cutoff, kafka: false });
    const at = new Date(customerEvent.arrivalTime);
    await ws.meter.use((db) =>
      db(TABLE).insert({ customer_id: newCustomer.customerId, name: newCustomer.name, [RENAMED]: newCustomer.region, tier: newCustomer.tier, created_at: at, updated_at: at }),
    );
    await job.waitProcessed(morning.events + afternoon.events);
    metrics = job.metrics();
  } finally {
    await job.stop();
  }
  if (job.runner.failure) throw job.runner.failure;

  step('02:00: dualrun batch run for the night');
  await ws.meter.release();
  const night = await batchCommand(ws, ['run', '--date', day.date, '--db', ws.url]);
  const history = await ws.meter.use(async (db) => (await db('dualrun_batch_runs').where('business_date', day.date).select('transform', 'status')) as { transform: string; status: string }[]);
  const statusOf = (name: string): string | undefined => history.find((run) => run.transform === name)?.status;
  const failed = shop.transforms.map((t) => t.name).filter((name) => statusOf(name) === 'failed');
  const succeeded = shop.transforms.map((t) => t.name).filter((name) => statusOf(name) === 'succeeded');

  step('the fix on the batch side: every query that named the column');
  const { dayStart, dayEnd } = (({ start, end }) => ({ dayStart: start, dayEnd: end }))(dayBounds(day.date, timeZone));
  const fixes = await ws.meter.use(async (db) => {
    const ctx: BatchContext = { knex: db, engine: ws.engine, businessDate: day.date, dayStart, dayEnd, cutoff: day.cutoff };
    return shop.transforms.map((transform) => ({ transform, references: columnReferences(transform.batch(ctx).toSQL().sql, TABLE, COLUMN) })).filter((fix) => fix.references > 0);
  });
  const fixed = fixes.map(({ transform }) => renamed(transform));
  step('running the night again with the fixed SQL');
  const { runBatch } = await import('../../../batch/runner.ts');
  const rerun = await ws.meter.use((db) => runBatch({ db, engine: ws.engine, transforms: fixed.filter((t) => failed.includes(t.name)), businessDate: day.date, cutoff: day.cutoff, logger: ws.env.logger }));
  const rerunSucceeded = rerun.filter((outcome) => outcome.status === 'succeeded').map((outcome) => outcome.transform);
  const rerunRowsWritten = rerun.reduce((sum, outcome) => sum + (outcome.status === 'succeeded' ? outcome.rowsWritten : 0), 0);

  step('what the streaming side read: the outputs and the events on the topics');
  const outputs = await ws.finalValues('orders_enriched');
  const customers = (await ws.eventsOn('customers')).filter((entry) => !entry.tombstone && entry.arrival > noon.toISOString());
  const batchRegion = await ws.meter.use(async (db) => ((await db('batch_orders_enriched').where('order_id', orderEvent.event.payload.orderId as string).first('region')) as { region?: string } | undefined)?.region ?? null);
  const versions = new Set<number>();
  for (const entity of shop.domain.entities) for (const entry of await ws.eventsOn(entity.name)) if (!entry.tombstone) versions.add(entry.event.schemaVersion);

  const measured: SchemaMeasured = {
    table: TABLE,
    column: COLUMN,
    renamedTo: RENAMED,
    batch: { exitCode: night.exitCode, message: night.message, failed, succeeded, fixedTransforms: fixes.map((fix) => fix.transform.name), referencesChanged: fixes.reduce((sum, fix) => sum + fix.references, 0), rerunSucceeded, rerunRowsWritten, newOrderRegion: batchRegion },
    stream: {
      eventsAfterRename: metrics.processed - processedAtRename,
      deadLetters: metrics.deadLetters,
      failed: job.runner.failure !== undefined,
      ordersInOutput: outputs.size,
      ordersWithRegion: [...outputs.values()].filter((row) => typeof row.region === 'string').length,
      schemaVersions: [...versions].sort(),
      customerEventsWithRegion: customers.filter((entry) => typeof entry.event.payload[COLUMN] === 'string').length,
      customerEvents: customers.length,
      newOrderRegion: ([...outputs.values()].find((row) => row.order_id === orderEvent.event.payload.orderId)?.region as string | null | undefined) ?? null,
      fixedTransforms: [],
    },
  };
  const { batch, stream } = measured;
  const holds = batch.exitCode === ExitCode.schema && batch.message.includes(COLUMN) && !stream.failed && stream.deadLetters === 0 && stream.eventsAfterRename === afternoon.events && stream.ordersWithRegion === stream.ordersInOutput && stream.newOrderRegion === newCustomer.region;
  const all = shop.transforms.length;
  return {
    number: 3,
    slug: 'schema',
    title: 'Schema coupling',
    question: 'What does a column rename in a legacy table break?',
    story: [
      `The morning of the shop (${plural(morning.events, 'event')}) went into a fresh ${ws.engine} database and the topics ${ws.prefix}.*; the streaming job for all ${all} outputs caught up on it.`,
      `At ${clock(noon, timeZone)} the team that owns the database renamed ${TABLE}.${COLUMN} to ${RENAMED}, and their application now writes the new column. Its events did not change: at ${clock(signUp, timeZone)} customer ${newCustomer.customerId} signed up, and the ${plural(stream.customerEvents, 'customer event')} after the rename ${stream.customerEvents === 1 ? 'carries' : 'carry'} \`${COLUMN}\` (${count(stream.customerEventsWithRegion)} of ${count(stream.customerEvents)}); every event on the topics is schema version ${stream.schemaVersions.join(', ')}.`,
      `The streaming job kept running: it processed the afternoon's ${plural(stream.eventsAfterRename, 'event')} after the rename with ${plural(stream.deadLetters, 'dead letter')}; its orders_enriched holds ${count(stream.ordersWithRegion)} of ${count(stream.ordersInOutput)} orders with their customer's region, ${orderEvent.event.payload.orderId} of ${newCustomer.customerId} in region ${stream.newOrderRegion ?? 'none'}.`,
      `At 02:00 \`dualrun batch run --date ${day.date}\` exited with code ${batch.exitCode}: "${firstLine(batch.message)}". ${batch.failed.length} of ${all} outputs failed (${batch.failed.join(', ') || 'none'}); ${batch.succeeded.join(', ') || 'none'} did not read the column.`,
      `The fix on the batch side: the SQL of ${plural(batch.fixedTransforms.length, 'transformation')} (${batch.fixedTransforms.join(', ')}) named ${TABLE}.${COLUMN} ${plural(batch.referencesChanged, 'time')}; with those references renamed the night ran again: ${batch.rerunSucceeded.length} of ${batch.failed.length} succeeded, ${plural(batch.rerunRowsWritten, 'row')} written, ${orderEvent.event.payload.orderId} in region ${batch.newOrderRegion ?? 'none'}. On the streaming side there was nothing to fix.`,
    ],
    figure: {
      caption: `After renaming ${TABLE}.${COLUMN} to ${RENAMED}`,
      header: ['side', 'what happened', 'outputs broken', 'what the fix touched'],
      rows: [
        ['nightly batch', `exit ${batch.exitCode}: ${firstLine(batch.message)}`, `${batch.failed.length} of ${all}`, `${plural(batch.fixedTransforms.length, 'transformation')}' SQL (${plural(batch.referencesChanged, 'reference')}), the night run again`],
        ['streaming', `kept running: ${plural(stream.eventsAfterRename, 'event')} after the rename, ${plural(stream.deadLetters, 'dead letter')}`, `0 of ${all}`, 'nothing'],
      ],
      chart: {
        title: 'Outputs the rename broke, and transformations the fix had to change',
        unit: 'transformations',
        scale: 'linear',
        bars: [
          { label: 'batch: outputs broken', value: batch.failed.length, text: `${batch.failed.length} of ${all}`, side: 'batch' },
          { label: 'batch: SQL changed', value: batch.fixedTransforms.length, text: `${batch.fixedTransforms.length} (${plural(batch.referencesChanged, 'reference')})`, side: 'batch' },
          { label: 'stream: outputs broken', value: stream.failed ? all : 0, text: stream.failed ? `${all} of ${all}` : `0 of ${all}`, side: 'stream' },
          { label: 'stream: code changed', value: stream.fixedTransforms.length, text: String(stream.fixedTransforms.length), side: 'stream' },
        ],
      },
    },
    lesson: holds
      ? `The batch job reads the source's tables, so the source's schema is its interface, whether anyone meant it to be: a rename that was a private matter of the database team broke ${batch.failed.length} of the ${all} nightly outputs, found at 02:00 by the job, not by the team that made the change. Fixing it meant finding every query that named the column (${plural(batch.referencesChanged, 'reference')} in ${plural(batch.fixedTransforms.length, 'transformation')}), changing them in step with the database, and running the night again. The streaming job reads events, a contract of their own with a version (${stream.schemaVersions.join(', ')}): the table could change under the application without the events changing, and the job read ${plural(stream.eventsAfterRename, 'event')} after the rename without noticing. The producer owns the mapping from its tables to its events; that is the one place a rename has to be dealt with.`
      : `This run does not show the usual picture: \`dualrun batch run\` exited ${batch.exitCode} ("${firstLine(batch.message)}") and the streaming job ${stream.failed ? 'failed' : `processed ${stream.eventsAfterRename} of ${afternoon.events} events with ${stream.deadLetters} dead letters`}.`,
    notes: ['The fix was made by renaming the column in the compiled SQL of each transformation that named it (the way a person would edit the queries), then rerunning the failed outputs for the night.'],
    claim: { text: `the rename breaks the batch job (exit ${ExitCode.schema}, a message naming ${COLUMN}) and not the streaming job`, holds },
    measured,
  };
}

/** The transformation with its batch SQL reading customers.sales_region where it read customers.region. */
function renamed(transform: Transform): Transform {
  return {
    ...transform,
    batch: (ctx) => {
      const { sql, bindings } = transform.batch(ctx).toSQL();
      return ctx.knex.raw(renameColumnReferences(sql, TABLE, COLUMN, RENAMED), [...bindings] as Knex.RawBinding[]);
    },
  };
}

const firstLine = (text: string): string => text.split('\n')[0]!.replace(/^error: /, '');

/** `dualrun batch …` run in process, as main() would: its exit code, and its error message if it failed. */
async function batchCommand(ws: Workspace, argv: string[]): Promise<{ exitCode: number; message: string; out: string[] }> {
  const cli = await import('../../../batch/cli.ts');
  const out: string[] = [];
  const ctx: CommandContext = {
    command: 'batch',
    argv,
    env: readEnvConfig(),
    config: validateConfig({}),
    project: ws.env.shop,
    logger: silentLogger,
    out: (text) => out.push(text),
    progress: (text) => out.push(text),
    parse: (options) => parseFlags('batch', argv, options),
  };
  try {
    return { exitCode: await cli.run(ctx), message: '', out };
  } catch (error) {
    if (error instanceof DualrunError) return { exitCode: error.exitCode, message: `error: ${error.describe()}`, out };
    return { exitCode: ExitCode.internal, message: `internal error: ${messageOf(error)}`, out };
  }
}
