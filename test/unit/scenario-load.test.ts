// Every CSV and scenario rule, each with a bad file and the exact place the message must name
// (line and column counted by hand from the rows below), plus the six fixtures loading cleanly.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { InputError} from '../../src/errors.ts';
import { UsageError } from '../../src/errors.ts';
import { ScenarioInputError, loadScenario as loadScenarioOf, type Scenario } from '../../src/scenario/load.ts';
import { shopCutoff, shopProject } from '../support/shop.ts';

const loadScenario = (nameOrDir: string) => loadScenarioOf(nameOrDir, shopProject);

const HEADERS = {
  customers: 'event_id,event_time,arrival_time,type,customer_id,name,region,tier',
  products: 'event_id,event_time,arrival_time,type,product_id,name,category,price,currency',
  fx_rates: 'event_id,event_time,arrival_time,type,currency,rate_date,rate_to_eur',
  orders: 'event_id,event_time,arrival_time,type,order_id,customer_id,currency,status',
  order_lines: 'order_id,line_no,product_id,quantity,unit_price,discount_pct',
};
// Columns of the good rows below: customers — event_time 4, arrival_time 25, type 46, customer_id 63,
// name 66, region 72, tier 78; orders — type 46, order_id 58, customer_id 61, currency 64, status 68;
// order_lines — line_no 4, product_id 6, quantity 9, unit_price 11, discount_pct 17.
const C1 = 'c1,2024-06-03T08:00:00Z,2024-06-03T08:00:00Z,CustomerUpserted,C1,Alice,north,gold';
const P1 = 'p1,2024-06-01T08:00:00Z,2024-06-01T08:00:00Z,ProductUpserted,P1,Mug,accessories,8.50,EUR';
const O1 = 'o1,2024-06-03T09:00:00Z,2024-06-03T09:01:00Z,OrderPlaced,O1,C1,EUR,';
const L1 = 'O1,1,P1,2,20.00,0';

type Files = Partial<Record<'customers.csv' | 'products.csv' | 'fx_rates.csv' | 'orders.csv' | 'order_lines.csv' | 'scenario.json' | 'expected-differences.json' | 'README.md', string | null>>;
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A valid one-order scenario, with some files replaced (null: file absent). */
async function scenario(files: Files = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dualrun-scenario-'));
  dirs.push(dir);
  const all: Files = {
    'README.md': 'A test scenario.\n',
    'scenario.json': '{ "businessDates": ["2024-06-03"] }',
    'expected-differences.json': '{}',
    'customers.csv': `${HEADERS.customers}\n${C1}\n`,
    'products.csv': `${HEADERS.products}\n${P1}\n`,
    'fx_rates.csv': `${HEADERS.fx_rates}\n`,
    'orders.csv': `${HEADERS.orders}\n${O1}\n`,
    'order_lines.csv': `${HEADERS.order_lines}\n${L1}\n`,
    ...files,
  };
  for (const [name, text] of Object.entries(all)) if (text !== null && text !== undefined) await writeFile(join(dir, name), text);
  return dir;
}

async function problemsOf(dir: string): Promise<InputError[]> {
  const error = await loadScenario(dir).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ScenarioInputError);
  return (error as ScenarioInputError).problems;
}

/** Loads `dir` expecting exactly one problem, at `where` (relative to the folder), whose message matches. */
async function expectOneProblem(dir: string, where: string, message: RegExp): Promise<void> {
  const problems = await problemsOf(dir);
  expect(problems.map((problem) => problem.describe())).toHaveLength(1);
  expect(problems[0]!.where).toBe(join(dir, where));
  expect(problems[0]!.message).toMatch(message);
}

describe('CSV syntax and headers', () => {
  it('accepts the minimal scenario', async () => {
    const loaded = await loadScenario(await scenario());
    expect(loaded.events.map((event) => event.event.eventId)).toEqual(['p1', 'c1', 'o1']);
    expect(loaded.cutoffTime).toBe('02:00');
    expect(loaded.description).toBe('A test scenario.');
  });

  it('names the first wrong header column', async () => {
    const dir = await scenario({ 'orders.csv': `${HEADERS.orders.replace('type', 'kind')}\n${O1}\n` });
    // "event_id,event_time,arrival_time," is 33 characters: "kind" starts at column 34.
    await expectOneProblem(dir, 'orders.csv:1:34', /expected header column 4 to be "type", found "kind"/);
  });

  it('names a missing header column', async () => {
    const dir = await scenario({ 'order_lines.csv': `${HEADERS.order_lines.replace(',discount_pct', '')}\n` });
    await expectOneProblem(dir, 'order_lines.csv:1:48', /expected header column 6 to be "discount_pct", found the end of the header/);
  });

  it('reports a row with too many fields at the first extra one', async () => {
    const dir = await scenario({ 'order_lines.csv': `${HEADERS.order_lines}\n${L1},9\n` });
    await expectOneProblem(dir, 'order_lines.csv:2:19', /expected 6 fields .*found 7/);
  });

  it('reports a row with too few fields', async () => {
    const dir = await scenario({ 'order_lines.csv': `${HEADERS.order_lines}\nO1,1,P1,2,20.00\n` });
    await expectOneProblem(dir, 'order_lines.csv:2:11', /expected 6 fields .*found 5/);
  });

  it('reports an unclosed quote at its line', async () => {
    const dir = await scenario({ 'customers.csv': `${HEADERS.customers}\n${C1}\nc2,2024-06-03T08:00:00Z,2024-06-03T08:00:00Z,CustomerUpserted,C2,"Bo,north,gold\n` });
    const problems = await problemsOf(dir);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.file).toBe(join(dir, 'customers.csv'));
    expect(problems[0]!.line).toBe(3);
    expect(problems[0]!.message).toMatch(/expected well-formed CSV .*Quote Not Closed/);
  });

  it('counts lines after a quoted newline, ignores a BOM, and takes CRLF', async () => {
    const rows = [HEADERS.customers, 'c1,2024-06-03T08:00:00Z,2024-06-03T08:00:00Z,CustomerUpserted,C1,"Alice\r\nAndersson, ""Al""",north,gold', C1.replace('c1', 'c2').replace('C1', 'C2').replace('north', 'middle')];
    const dir = await scenario({ 'customers.csv': `\uFEFF${rows.join('\r\n')}\r\n` });
    // The quoted name spans lines 2-3, so the third record starts on line 4; "middle" is at column 72.
    await expectOneProblem(dir, 'customers.csv:4:72', /region: expected one of north, south, east, west, found "middle"/);
  });

  it('keeps a quoted name with a newline, a comma and quotes intact', async () => {
    const rows = [HEADERS.customers, 'c1,2024-06-03T08:00:00Z,2024-06-03T08:00:00Z,CustomerUpserted,C1,"Alice\nAndersson, ""Al""",north,gold'];
    const loaded = await loadScenario(await scenario({ 'customers.csv': `${rows.join('\n')}\n` }));
    const customer = loaded.events.find((event) => event.event.type === 'CustomerUpserted')!;
    expect(customer.event.payload).toMatchObject({ name: 'Alice\nAndersson, "Al"' });
  });

  it('accepts empty files, header-only files and blank lines', async () => {
    const loaded = await loadScenario(await scenario({ 'fx_rates.csv': '', 'products.csv': `\n${HEADERS.products}\n\n${P1}\n\n`, 'customers.csv': `${HEADERS.customers}\n${C1}` }));
    expect(loaded.events).toHaveLength(3);
    const withBlank = loaded.events.find((event) => event.event.eventId === 'p1')!;
    expect(withBlank.source).toEqual({ file: 'products.csv', line: 4 });
  });

  it('requires every file', async () => {
    const dir = await scenario({ 'fx_rates.csv': null });
    await expectOneProblem(dir, 'fx_rates.csv', /expected the file fx_rates.csv, found none/);
  });
});

describe('typed columns', () => {
  it.each([
    ['an instant without a zone', 'orders.csv', `${HEADERS.orders}\n${O1.replace('2024-06-03T09:00:00Z', '2024-06-03 09:00')}\n`, 'orders.csv:2:4', /event_time: expected an ISO-8601 UTC time .*found "2024-06-03 09:00"/],
    ['an unknown event type', 'orders.csv', `${HEADERS.orders}\n${O1.replace('OrderPlaced', 'OrderShipped')}\n`, 'orders.csv:2:46', /type: expected one of OrderPlaced, OrderStatusChanged, OrderDeleted, found "OrderShipped"/],
    ['an id with a space', 'orders.csv', `${HEADERS.orders}\n${O1.replace(',C1,', ',C 1,')}\n`, 'orders.csv:2:61', /customer_id: expected an id of 1-64 letters/],
    ['an unknown currency', 'orders.csv', `${HEADERS.orders}\n${O1.replace('EUR', 'GBP')}\n`, 'orders.csv:2:64', /currency: expected one of EUR, SEK, USD, found "GBP"/],
    ['a quantity of 0', 'order_lines.csv', `${HEADERS.order_lines}\nO1,1,P1,0,20.00,0\n`, 'order_lines.csv:2:9', /quantity: expected a whole number of at least 1, found "0"/],
    ['a price with three decimals', 'order_lines.csv', `${HEADERS.order_lines}\nO1,1,P1,2,20.005,0\n`, 'order_lines.csv:2:11', /unit_price: expected a decimal number with at most 2 digits/],
    ['a discount over 100', 'order_lines.csv', `${HEADERS.order_lines}\nO1,1,P1,2,20.00,120\n`, 'order_lines.csv:2:17', /discount_pct: expected a number from 0 to 100, found "120"/],
    ['a negative rate', 'fx_rates.csv', `${HEADERS.fx_rates}\nfx1,2024-06-01T08:00:00Z,2024-06-01T08:00:00Z,FxRateSet,SEK,2024-06-03,-0.087\n`, 'fx_rates.csv:2:72', /rate_to_eur: expected a number of at least 0/],
    ['an impossible date', 'fx_rates.csv', `${HEADERS.fx_rates}\nfx1,2024-06-01T08:00:00Z,2024-06-01T08:00:00Z,FxRateSet,SEK,2024-02-30,0.087\n`, 'fx_rates.csv:2:61', /rate_date: expected a date like 2024-10-27, found "2024-02-30"/],
  ])('rejects %s', async (_what, file, text, where, message) => {
    await expectOneProblem(await scenario({ [file]: text }), where, message);
  });
});

describe('rules across fields, rows and files', () => {
  it('requires the fields an event type needs', async () => {
    const dir = await scenario({ 'customers.csv': `${HEADERS.customers}\n${C1.replace(',north,', ',,')}\n` });
    await expectOneProblem(dir, 'customers.csv:2:72', /region: expected a value \(CustomerUpserted needs name, region, tier\), found an empty field/);
  });

  it('requires the fields an event type does not carry to be empty', async () => {
    const deleted = 'c2,2024-06-03T10:00:00Z,2024-06-03T10:00:00Z,CustomerDeleted,C1,Alice,,';
    await expectOneProblem(await scenario({ 'customers.csv': `${HEADERS.customers}\n${C1}\n${deleted}\n` }), 'customers.csv:3:65', /name: expected an empty field \(CustomerDeleted carries no name\)/);
  });

  it('rejects an event that arrives before it happened', async () => {
    const early = O1.replace('2024-06-03T09:01:00Z', '2024-06-03T08:59:59Z');
    await expectOneProblem(await scenario({ 'orders.csv': `${HEADERS.orders}\n${early}\n` }), 'orders.csv:2:25', /arrival_time: expected a time at or after event_time/);
  });

  it('lets an order start only as placed: OrderPlaced carries no status', async () => {
    await expectOneProblem(await scenario({ 'orders.csv': `${HEADERS.orders}\n${O1}paid\n` }), 'orders.csv:2:68', /status: expected an empty field \(OrderPlaced carries no status\), found "paid"/);
  });

  it('requires lines for every order and an order for every line', async () => {
    const dir = await scenario({ 'order_lines.csv': `${HEADERS.order_lines}\nO9,1,P1,2,20.00,0\n` });
    const problems = await problemsOf(dir);
    expect(problems.map((problem) => problem.where)).toEqual([join(dir, 'orders.csv:2:58'), join(dir, 'order_lines.csv:2:1')]);
    expect(problems[0]!.message).toMatch(/order_id: expected at least 1 row for O1 in order_lines.csv/);
    expect(problems[1]!.message).toMatch(/order_id: expected the key of an OrderPlaced row in orders.csv, found "O9"/);
  });

  it('rejects a line number used twice', async () => {
    await expectOneProblem(await scenario({ 'order_lines.csv': `${HEADERS.order_lines}\n${L1}\nO1,1,P1,1,8.50,0\n` }), 'order_lines.csv:3:4', /line_no: expected a line_no not yet used by O1, found 1/);
  });

  it('rejects an order placed twice under different event ids', async () => {
    const again = O1.replace('o1,', 'o2,').replace('09:01:00Z', '09:02:00Z');
    await expectOneProblem(await scenario({ 'orders.csv': `${HEADERS.orders}\n${O1}\n${again}\n` }), 'orders.csv:3:1', /event_id: expected the event_id o1 of the OrderPlaced of O1 at line 2 \(a redelivery repeats its event_id; a orders row with lines is upserted once\)/);
  });

  it('marks an exact repeat as a redelivery and rejects a repeat that differs', async () => {
    const redelivered = O1.replace('09:01:00Z', '09:30:00Z');
    const loaded = await loadScenario(await scenario({ 'orders.csv': `${HEADERS.orders}\n${redelivered}\n${O1}\n` }));
    const copies = loaded.events.filter((event) => event.event.eventId === 'o1');
    // Arrival order decides which copy is the original, not file order.
    expect(copies.map((copy) => [copy.arrivalTime, copy.redelivery, copy.source.line])).toEqual([
      ['2024-06-03T09:01:00.000Z', false, 3],
      ['2024-06-03T09:30:00.000Z', true, 2],
    ]);
    const changed = O1.replace('09:01:00Z', '09:30:00Z').replace(',EUR,', ',SEK,');
    await expectOneProblem(await scenario({ 'orders.csv': `${HEADERS.orders}\n${O1}\n${changed}\n` }), 'orders.csv:3:1', /payload: expected a redelivery of event o1 \(first at orders.csv:2\) to repeat it exactly/);
  });

  it('reports every problem of every file at once, and applies nothing', async () => {
    const dir = await scenario({
      'customers.csv': `${HEADERS.customers}\n${C1.replace('gold', 'platinum')}\n`,
      'order_lines.csv': `${HEADERS.order_lines}\nO1,1,P1,2,20.00,0\nO1,2,P1,x,20.00,0\n`,
      'scenario.json': '{ "businessDates": ["2024-06-04", "2024-06-03"] }',
    });
    const problems = await problemsOf(dir);
    expect(problems.map((problem) => problem.where).sort()).toEqual([join(dir, 'customers.csv:2:78'), join(dir, 'order_lines.csv:3:9'), join(dir, 'scenario.json')].sort());
    const error = (await loadScenario(dir).catch((thrown: unknown) => thrown)) as ScenarioInputError;
    expect(error.describe()).toContain('3 problems');
    expect(error.describe()).toContain(`${join(dir, 'customers.csv')}:2:78: tier: expected one of standard, silver, gold, found "platinum"`);
  });
});

describe('scenario.json, expected-differences.json, README.md', () => {
  it('checks scenario.json', async () => {
    await expectOneProblem(await scenario({ 'scenario.json': '{ "businessDates": ["2024-06-03"], "cutoffTime": "2am" }' }), 'scenario.json', /cutoffTime: expected a local time HH:MM like 02:00, found "2am"/);
    // The second comma is at column 35 of line 2 (Node names its position).
    await expectOneProblem(await scenario({ 'scenario.json': '{\n  "businessDates": ["2024-06-03"],,\n}' }), 'scenario.json:2:35', /expected valid JSON/);
  });

  it('checks expected differences against the contracts and the events', async () => {
    const dir = await scenario({
      'expected-differences.json': JSON.stringify({
        orders_enriched: [{ key: { order_id: 'O1' }, category: 'late_arrival', columns: ['colour'], events: ['o1', 'o7'] }],
        daily_revenue: [],
        product_sales_daily: [{ key: { product_id: 'P1' }, category: 'late_arrival', events: ['o1'] }],
      }),
    });
    const problems = await problemsOf(dir);
    expect(problems.map((problem) => problem.message)).toEqual([
      expect.stringMatching(/^orders_enriched\[0\]\.columns: expected columns of orders_enriched .*found "colour"$/),
      expect.stringMatching(/^orders_enriched\[0\]\.events: expected event ids of this scenario's CSV files, found "o7"$/),
      expect.stringMatching(/^daily_revenue: expected a transformation name/),
      expect.stringMatching(/^product_sales_daily\[0\]\.key: expected exactly the key columns business_date, product_id, found product_id$/),
    ]);
  });

  it('requires a README line', async () => {
    await expectOneProblem(await scenario({ 'README.md': '\n\n' }), 'README.md', /expected a README.md whose first line says what the scenario demonstrates/);
  });

  it('names the known scenarios when one is not found', async () => {
    const error = await loadScenario('no-such-scenario').catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).describe()).toMatch(/no scenario "no-such-scenario".*\n.*baseline, cancellations-and-deletes, customer-moves, dst-boundary, duplicates, late-arrivals/);
  });
});

describe('the six fixtures', () => {
  const names = ['baseline', 'late-arrivals', 'customer-moves', 'duplicates', 'dst-boundary', 'cancellations-and-deletes'];
  const loaded = new Map<string, Scenario>();
  it.each(names)('%s loads, in arrival order, every event arriving before the last cut-off', async (name) => {
    const fixture = await loadScenario(name);
    loaded.set(name, fixture);
    expect(fixture.name).toBe(name);
    const arrivals = fixture.events.map((event) => event.arrivalTime);
    expect(arrivals).toEqual([...arrivals].sort());
    const lastCutoff = shopCutoff(fixture.businessDates[fixture.businessDates.length - 1]!).toISOString();
    expect(arrivals.every((arrival) => arrival <= lastCutoff)).toBe(true);
    expect(Object.keys(fixture.expectedDifferences).sort()).toEqual(['customer_lifetime_value', 'daily_revenue_by_region', 'order_status_current', 'orders_enriched', 'product_sales_daily']);
  });

  it('duplicates holds six redeliveries (written by hand in orders.csv and customers.csv)', async () => {
    const fixture = await loadScenario('duplicates');
    expect(fixture.events.filter((event) => event.redelivery).map((event) => event.event.eventId)).toEqual(['cust-C1', 'ord-U1', 'ord-U2-paid', 'ord-U2', 'ord-U3', 'ord-U3']);
  });

  it('baseline expects full parity', async () => {
    const fixture = await loadScenario('baseline');
    expect(Object.values(fixture.expectedDifferences).flat()).toEqual([]);
  });
});
