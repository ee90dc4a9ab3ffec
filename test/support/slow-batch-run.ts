// A real batch run made slow on purpose, for the kill -9 test: orders_enriched whose SELECT also sleeps
// inside the database (pg_sleep / SLEEP), so the process is killed while its transaction is open,
// after the DELETE and in the middle of the INSERT … SELECT. Usage: node --import tsx slow-batch-run.ts URL DATE SECONDS
import { runBatch } from '../../batch/runner.ts';
import { connectKnex, engineOf } from '../../src/db.ts';
import { silentLogger } from '../../src/logger.ts';
import { ordersEnriched } from '../../src/domains/shop/index.ts';

const [url, businessDate, seconds] = process.argv.slice(2) as [string, string, string];
const engine = engineOf(url);
const sleep = engine === 'mysql' ? `(SELECT SLEEP(${Number(seconds)}) AS slept) AS s` : `(SELECT pg_sleep(${Number(seconds)}) AS slept) AS s`;
const slow = { ...ordersEnriched, batch: (ctx: Parameters<typeof ordersEnriched.batch>[0]) => ctx.knex.select('q.*').from(ordersEnriched.batch(ctx).as('q')).crossJoin(ctx.knex.raw(sleep)) };
const db = await connectKnex(url);
const outcomes = await runBatch({ db, engine, transforms: [slow], businessDate, logger: silentLogger });
console.log(JSON.stringify(outcomes.map((outcome) => outcome.status)));
await db.destroy();
