// A real batch run made slow on purpose, for the kill -9 test: orders_enriched sleeping inside its
// INSERT … SELECT (test/support/slow-transform.ts), so the process is killed while its transaction is
// open. Usage: node --import tsx slow-batch-run.ts URL DATE SECONDS
import { runBatch } from '../../batch/runner.ts';
import { connectKnex, engineOf } from '../../src/db.ts';
import { silentLogger } from '../../src/logger.ts';
import { ordersEnriched } from '../../src/domains/shop/index.ts';
import { slowTransform } from './slow-transform.ts';

const [url, businessDate, seconds] = process.argv.slice(2) as [string, string, string];
const engine = engineOf(url);
const db = await connectKnex(url);
const outcomes = await runBatch({ db, engine, transforms: [slowTransform(ordersEnriched, engine, Number(seconds))], businessDate, logger: silentLogger });
console.log(JSON.stringify(outcomes.map((outcome) => outcome.status)));
await db.destroy();
