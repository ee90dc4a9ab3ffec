// A scenario CSV that is not UTF-8, is ;- or tab-separated, or has a duplicate or empty column name:
// exactly one problem for the file, at file:line:column, saying what was expected and what was found.
// Lines and columns are counted by hand from the rows below.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ScenarioInputError, loadScenario } from '../../src/scenario/load.ts';
import { shopProject } from '../support/shop.ts';

const CUSTOMERS = 'event_id,event_time,arrival_time,type,customer_id,name,region,tier';
// name starts at column 66.
const C1 = 'c1,2024-06-03T08:00:00Z,2024-06-03T08:00:00Z,CustomerUpserted,C1,Alice,north,gold';
const FILES: Record<string, string> = {
  'README.md': 'A test scenario.\n',
  'scenario.json': '{ "businessDates": ["2024-06-03"] }',
  'expected-differences.json': '{}',
  'customers.csv': `${CUSTOMERS}\n${C1}\n`,
  'products.csv': 'event_id,event_time,arrival_time,type,product_id,name,category,price,currency\n',
  'fx_rates.csv': 'event_id,event_time,arrival_time,type,currency,rate_date,rate_to_eur\n',
  'orders.csv': 'event_id,event_time,arrival_time,type,order_id,customer_id,currency,status\n',
  'order_lines.csv': 'order_id,line_no,product_id,quantity,unit_price,discount_pct\n',
};

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** Loads a good scenario whose customers.csv is `customers`; the one problem as `where: message` and its fix. */
async function problemOf(customers: string | Buffer): Promise<{ where: string; message: string; hint: string | undefined }> {
  const dir = await mkdtemp(join(tmpdir(), 'dualrun-scenario-csv-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries({ ...FILES, 'customers.csv': customers })) await writeFile(join(dir, name), text);
  const error = await loadScenario(dir, shopProject).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ScenarioInputError);
  const problems = (error as ScenarioInputError).problems;
  expect(problems.map((problem) => problem.describe())).toHaveLength(1);
  return { where: problems[0]!.where.slice(dir.length + 1), message: problems[0]!.message, hint: problems[0]!.hint };
}

describe('scenario CSV files: one clear problem each', () => {
  it('a byte that is not UTF-8, in a row and in the header', async () => {
    const expected = { message: 'expected UTF-8 text, found "\uFFFD" (U+FFFD: a byte that is not UTF-8, or a character lost in an earlier conversion)', hint: 'save the file as UTF-8 (and type again any character that was lost)' };
    expect(await problemOf(Buffer.from(`${CUSTOMERS}\n${C1.replace('Alice', 'Alicé')}\n`, 'latin1'))).toEqual({ where: 'customers.csv:2:70', ...expected });
    expect(await problemOf(Buffer.from(`${CUSTOMERS.replace('tier', 'tiér')}\n${C1}\n`, 'latin1'))).toEqual({ where: 'customers.csv:1:65', ...expected });
  });

  it('a ;-separated file (names quoted or not) and a tab-separated file', async () => {
    const hint = `save the file comma-separated; the header must be exactly: ${CUSTOMERS}`;
    const semicolon = 'expected the header columns separated by commas, found ";" and no comma (the file looks ;-separated)';
    expect(await problemOf(`${CUSTOMERS.replaceAll(',', ';')}\n${C1.replaceAll(',', ';')}\n`)).toEqual({ where: 'customers.csv:1:9', message: semicolon, hint });
    const quoted = CUSTOMERS.split(',').map((name) => `"${name}"`).join(';');
    expect(await problemOf(`${quoted}\n${C1.replaceAll(',', ';')}\n`)).toEqual({ where: 'customers.csv:1:11', message: semicolon, hint });
    const tab = 'expected the header columns separated by commas, found a tab and no comma (the file looks tab-separated)';
    expect(await problemOf(`${CUSTOMERS.replaceAll(',', '\t')}\n${C1.replaceAll(',', '\t')}\n`)).toEqual({ where: 'customers.csv:1:9', message: tab, hint });
  });

  it('a duplicate column name says it is there twice', async () => {
    expect(await problemOf(`${CUSTOMERS.replace('region', 'name')}\n${C1}\n`)).toEqual({
      where: 'customers.csv:1:56',
      message: 'expected header column 7 to be "region", found "name" again (column 6 is "name" too)',
      hint: `the header must be exactly: ${CUSTOMERS}`,
    });
  });

  it('an empty column name', async () => {
    expect(await problemOf(`${CUSTOMERS.replace('name', '')}\n${C1}\n`)).toEqual({
      where: 'customers.csv:1:51',
      message: 'expected header column 6 to be "name", found an empty field',
      hint: `the header must be exactly: ${CUSTOMERS}`,
    });
  });
});
