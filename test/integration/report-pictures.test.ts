// The report's pictures in real headless Chromium, on reports of real dual runs (dualrun demo, real broker):
// every difference a scenario declares has its timeline, with one lane per delivery of its proving
// events and two marks per lane — counted from the scenario's CSVs, not from the report — and its rules
// where the scenario's instants put them; a screenshot shows ink where each mark is (a check that is
// itself shown to catch a picture emptied or with its marks hidden); `dualrun status --html` draws each
// transformation's nights from a history written by the real appenders.
import { cp, mkdir, mkdtemp, readdir, readFile, appendFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse } from 'csv-parse/sync';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendGateVerdicts } from '../../compare/gate-history.ts';
import { appendHistory } from '../../compare/history.ts';
import type { ComparisonResult, Report } from '../../compare/types.ts';
import { runCli } from '../support/cli.ts';
import { brokers } from '../support/kafka.ts';

const root = join(import.meta.dirname, '../..');
const artifacts = join(root, 'test-artifacts');
let browser: Browser;
let work: string;

interface Expected {
  key: Record<string, unknown>;
  category: string;
  events?: string[];
}
interface Delivery {
  eventTime: string;
  arrival: string;
}

/** Every delivery of every event in a scenario folder, by event id (a redelivery is a repeated row). */
async function deliveriesOf(dir: string): Promise<Map<string, Delivery[]>> {
  const byId = new Map<string, Delivery[]>();
  for (const file of (await readdir(dir)).filter((name) => name.endsWith('.csv'))) {
    const rows = parse(await readFile(join(dir, file), 'utf8'), { columns: true }) as Record<string, string>[];
    for (const row of rows) {
      if (row.event_id === undefined) continue; // child rows (order lines) travel with their parent's event
      const list = byId.get(row.event_id) ?? [];
      list.push({ eventTime: new Date(row.event_time!).toISOString(), arrival: new Date(row.arrival_time!).toISOString() });
      byId.set(row.event_id, list);
    }
  }
  return byId;
}

async function demo(out: string, args: string[]): Promise<void> {
  const result = await runCli(['demo', '--out', out, ...args], { KAFKA_BROKERS: brokers().join(','), DATABASE_URL: '' }, 240_000);
  expect(result.code, result.stderr).toBe(0);
}

/** Opens a page and records console errors, page errors and requests that leave the file. */
async function open(file: string): Promise<{ page: Page; problems: string[]; requests: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('request', (request) => {
    if (!request.url().startsWith('file:')) requests.push(request.url());
  });
  await page.goto(pathToFileURL(file).href);
  return { page, problems, requests };
}

interface Lane {
  event: string;
  eventTime: string;
  arrival: string;
  redelivery: boolean;
  marks: string[];
  eventX: number;
  arrivalX: number;
}
interface Figure {
  key: Record<string, unknown>;
  lanes: Lane[];
  rules: { kind: string; at: string; x: number; label: string }[];
}

// Runs in the page (a string, so the test needs no DOM types).
const READ_FIGURES = `[...document.querySelectorAll('figure.timeline')].map((figure) => {
  const centre = (element) => { const r = element.getBoundingClientRect(); return r.x + r.width / 2; };
  return {
    key: JSON.parse(figure.dataset.key),
    lanes: [...figure.querySelectorAll('svg.timeline g.lane')].map((lane) => ({
      event: lane.dataset.event, eventTime: lane.dataset.eventTime, arrival: lane.dataset.arrival,
      redelivery: lane.classList.contains('redelivery'),
      marks: [...lane.querySelectorAll('.mark')].map((mark) => mark.getAttribute('class')),
      eventX: centre(lane.querySelector('.mark.event-time')), arrivalX: centre(lane.querySelector('.mark.arrival')),
    })),
    rules: [...figure.querySelectorAll('svg.timeline g.rule')].map((rule) => ({
      kind: rule.getAttribute('class').replace('rule ', ''), at: rule.dataset.at, x: centre(rule.querySelector('line')), label: rule.querySelector('text').textContent,
    })),
  };
})`;

/**
 * Ink in a screenshot of each timeline: how many pixels of its plot are not near-white, and whether each
 * mark is visibly drawn — a blue ring for an event time, a filled (dark or red) centre for an arrival.
 */
const MEASURE_INK = `(async ({ png, marks, plot }) => {
  const image = new Image();
  image.src = 'data:image/png;base64,' + png;
  await image.decode();
  const canvas = document.createElement('canvas');
  canvas.width = image.width; canvas.height = image.height;
  const context = canvas.getContext('2d');
  context.drawImage(image, 0, 0);
  const { data } = context.getImageData(0, 0, image.width, image.height);
  const at = (x, y) => { const i = (Math.round(y) * image.width + Math.round(x)) * 4; return [data[i], data[i + 1], data[i + 2]]; };
  const inked = ([r, g, b]) => r < 200 || g < 200 || b < 200;
  const blue = ([r, g, b]) => b > 150 && r < 90 && g < 170;
  let plotInk = 0;
  for (let y = plot.y0; y < plot.y1; y++) for (let x = plot.x0; x < plot.x1; x++) if (inked(at(x, y))) plotInk++;
  const drawn = marks.map((mark) => {
    if (mark.kind === 'arrival') return inked(at(mark.cx, mark.cy));
    for (let y = mark.y; y <= mark.y + mark.h; y++) for (let x = mark.x; x <= mark.x + mark.w; x++) if (blue(at(x, y))) return true;
    return false;
  });
  return { plotInk, drawn };
})`;

const MARK_BOXES = `(() => [...document.querySelectorAll('svg.timeline')].map((svg) => {
  const box = svg.getBoundingClientRect();
  const lanes = [...svg.querySelectorAll('g.lane')].map((lane) => lane.getBoundingClientRect());
  return {
    plot: { x0: 215, x1: 785, y0: Math.floor(lanes[0].y - box.y), y1: Math.ceil(lanes.at(-1).bottom - box.y) },
    marks: [...svg.querySelectorAll('.mark')].map((mark) => {
      const r = mark.getBoundingClientRect();
      return { kind: mark.classList.contains('arrival') ? 'arrival' : 'event-time', x: Math.floor(r.x - box.x), y: Math.floor(r.y - box.y), w: Math.ceil(r.width), h: Math.ceil(r.height), cx: r.x - box.x + r.width / 2, cy: r.y - box.y + r.height / 2 };
    }),
  };
}))()`;

interface Ink {
  plotInk: number;
  drawn: boolean[];
}

/** Screenshots each timeline of the page and measures its ink in a blank page. */
async function inkOf(page: Page): Promise<Ink[]> {
  const boxes = (await page.evaluate(MARK_BOXES)) as { plot: unknown; marks: unknown[] }[];
  const shots = page.locator('svg.timeline');
  const blank = await browser.newPage();
  try {
    const inks: Ink[] = [];
    for (let i = 0; i < boxes.length; i++) {
      const png = (await shots.nth(i).screenshot()).toString('base64');
      inks.push((await blank.evaluate(`${MEASURE_INK}(${JSON.stringify({ png, ...boxes[i] })})`)) as Ink);
    }
    return inks;
  } finally {
    await blank.close();
  }
}

const sameKey = (a: Record<string, unknown>, b: Record<string, unknown>): boolean => JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());

/** The scenario's declared differences, each with the deliveries of its events from the CSVs, against the pictures. */
function checkFigures(figures: Figure[], expected: Record<string, Expected[]>, deliveries: Map<string, Delivery[]>): void {
  const declared = Object.values(expected).flat().filter((difference) => (difference.events ?? []).length > 0);
  expect(figures).toHaveLength(declared.length);
  for (const difference of declared) {
    const figure = figures.find((candidate) => sameKey(candidate.key, difference.key));
    expect(figure, JSON.stringify(difference.key)).toBeDefined();
    const fromCsv = difference.events!.flatMap((id) => deliveries.get(id)!.map((d) => `${id} ${d.eventTime} ${d.arrival}`)).sort();
    const drawn = figure!.lanes.filter((lane) => difference.events!.includes(lane.event));
    expect(drawn.map((lane) => `${lane.event} ${lane.eventTime} ${lane.arrival}`).sort()).toEqual(fromCsv);
    for (const lane of figure!.lanes) expect(lane.marks).toEqual(['mark event-time', 'mark arrival']);
    // Left to right in time order: each rule by its instant, and each arrival against each rule.
    const rules = [...figure!.rules].sort((a, b) => a.at.localeCompare(b.at));
    expect(rules.map((rule) => rule.x)).toEqual([...rules.map((rule) => rule.x)].sort((a, b) => a - b));
    for (const lane of figure!.lanes) {
      for (const rule of figure!.rules) {
        if (lane.arrival > rule.at) expect(lane.arrivalX, `${lane.event} after ${rule.kind}`).toBeGreaterThan(rule.x);
        if (lane.arrival < rule.at) expect(lane.arrivalX, `${lane.event} before ${rule.kind}`).toBeLessThan(rule.x);
      }
      if (lane.arrival > lane.eventTime) expect(lane.arrivalX).toBeGreaterThan(lane.eventX);
    }
  }
}

beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  work = await mkdtemp(join(tmpdir(), 'dualrun-pictures-'));
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await rm(work, { recursive: true, force: true });
});

describe('timelines in the HTML report', () => {
  it('late-arrivals: a picture per declared difference, its lanes and marks those of the scenario, its rules where its instants are', async () => {
    const out = join(work, 'late-arrivals');
    await demo(out, ['--scenario', 'late-arrivals']);
    const scenario = join(root, 'fixtures/late-arrivals');
    const expected = JSON.parse(await readFile(join(scenario, 'expected-differences.json'), 'utf8')) as Record<string, Expected[]>;
    const { page, problems, requests } = await open(join(out, 'report.html'));
    const figures = (await page.evaluate(READ_FIGURES)) as Figure[];
    checkFigures(figures, expected, await deliveriesOf(scenario));
    // The scenario's story: ord-L4 arrived after its day's window closed, before the 02:00 cut-off;
    // ord-L5 after the cut-off, and its output has no window.
    const revenue = figures.find((figure) => figure.key.region === 'north')!;
    expect(revenue.rules.map((rule) => rule.kind)).toEqual(['window-end', 'grace-end', 'window-closed', 'cutoff']);
    expect(revenue.rules.map((rule) => rule.label)).toEqual(['window 2024-06-10 ends 06-10 22:00', 'window end + grace 06-10 22:30', 'window closed 06-10 22:41', 'batch cut-off 06-11 00:00']);
    const enriched = figures.find((figure) => figure.key.order_id === 'L5')!;
    expect(enriched.rules.map((rule) => rule.kind)).toEqual(['cutoff']);
    expect(enriched.lanes[0]!.arrivalX).toBeGreaterThan(enriched.rules[0]!.x);
    await mkdir(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, 'report-pictures-late-arrivals.png'), fullPage: true });
    expect(problems).toEqual([]);
    expect(requests).toEqual([]);
    // The Markdown report tells the same story in text.
    const markdown = await readFile(join(out, 'report.md'), 'utf8');
    expect(markdown).toContain('2024-06-10 23:15  ▶ ord-L4 arrives 1 h 25 min after its event time: after the window closed, before the batch cut-off');
    expect(markdown).toContain('2024-06-11 06:00  ▶ ord-L5 arrives 10 h after its event time: after the batch cut-off');
    await page.close();
  });

  it('a redelivered late reading: each delivery on a lane of its own, the repeat marked as such', async () => {
    // The metering scenario of late and redelivered readings, with the late reading rd-4 sent once more.
    const scenario = join(work, 'late-and-redelivered-again');
    await cp(join(root, 'examples/metering/scenarios/late-and-redelivered'), scenario, { recursive: true });
    await appendFile(join(scenario, 'readings.csv'), 'rd-4,2024-06-10T03:10:00Z,2024-06-10T05:10:00Z,ReadingTaken,R4,M3,3.000\n');
    const out = join(work, 'redelivered');
    await demo(out, ['--config', join(root, 'examples/metering/dualrun.config.ts'), '--scenario', scenario]);
    const deliveries = await deliveriesOf(scenario);
    expect(deliveries.get('rd-4')).toHaveLength(2);
    const expected = JSON.parse(await readFile(join(scenario, 'expected-differences.json'), 'utf8')) as Record<string, Expected[]>;
    const { page, problems } = await open(join(out, 'report.html'));
    const figures = (await page.evaluate(READ_FIGURES)) as Figure[];
    checkFigures(figures, expected, deliveries);
    const late = figures.find((figure) => figure.key.site_id === 'S2')!;
    expect(late.lanes.map((lane) => [lane.event, lane.redelivery])).toEqual([['rd-4', false], ['rd-4', true]]);
    expect(await page.locator('svg.timeline g.lane.redelivery line.delivery[stroke-dasharray]').count()).toBe(1);
    expect(await page.locator('svg.timeline g.lane.redelivery text').first().textContent()).toBe('rd-4 ↻ redelivery 2');
    await page.screenshot({ path: join(artifacts, 'report-pictures-redelivered.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('screenshots show every mark drawn; a picture emptied, or with its marks hidden, is caught', async () => {
    const { page } = await open(join(work, 'late-arrivals', 'report.html'));
    const inks = await inkOf(page);
    expect(inks).toHaveLength(3);
    for (const ink of inks) {
      expect(ink.plotInk).toBeGreaterThan(150);
      expect(ink.drawn).toEqual(ink.drawn.map(() => true));
    }
    // The same check on broken pictures: marks hidden by a stylesheet, and a picture with nothing in it.
    await page.addStyleTag({ content: 'svg.timeline .mark { visibility: hidden }' });
    for (const ink of await inkOf(page)) expect(ink.drawn.every((drawn) => !drawn)).toBe(true);
    await page.evaluate(`document.querySelectorAll('svg.timeline g.lane').forEach((lane) => lane.replaceChildren())`);
    for (const ink of await inkOf(page)) expect(ink.plotInk).toBeLessThan(150);
    await page.close();
  });
});

describe('dualrun status --html', () => {
  const comparison = (name: string, mismatch: number, explained: ComparisonResult['explained']): ComparisonResult => ({
    name,
    left: { source: 'batch', rows: 20 },
    right: { source: 'stream', rows: 20 },
    key: ['id'],
    counts: { match: 20 - mismatch, withinTolerance: 0, mismatch, onlyLeft: 0, onlyRight: 0 },
    notYetComparable: { left: 0, right: 0, watermark: null, dates: [] }, notRunByBatch: { left: 0, right: 0, dates: [] },
    findings: { duplicateKeys: { left: 0, right: 0, leftRows: 0, rightRows: 0, examples: [] }, nullKeys: { left: 0, right: 0, leftRows: 0, rightRows: 0, examples: [] } },
    schema: { onlyLeft: [], onlyRight: [], typeChanges: [] },
    columns: {},
    samples: [],
    explained,
    differences: [],
    parity: mismatch === 0,
    durationsMs: {},
  });

  it('draws each checked transformation’s nights: a point per night, a row per category seen, a cell per night', async () => {
    const history = join(work, 'status', 'history.duckdb');
    // Three nights of dualrun check, as it records them (the history, then the verdicts with the night).
    const nights: [string, ComparisonResult[]][] = [
      ['2024-06-11', [comparison('orders_enriched', 2, { late_arrival: 2 }), comparison('daily_revenue_by_region', 0, {})]],
      ['2024-06-12', [comparison('orders_enriched', 3, { late_arrival: 1, join_as_of_event_time: 1, unexplained: 1 }), comparison('daily_revenue_by_region', 0, {})]],
      ['2024-06-13', [comparison('orders_enriched', 0, {}), comparison('daily_revenue_by_region', 1, { update_delete_semantics: 1 })]],
    ];
    for (const [date, comparisons] of nights) {
      const runAt = `${date}T01:00:00.000Z`;
      const report: Report = { schemaVersion: 1, tool: 'dualrun', generatedAt: runAt, parity: comparisons.every((c) => c.parity), comparisons };
      await appendHistory(history, report);
      const verdicts = comparisons.map((c) => ({ transform: c.name, stage: 'shadow' as const, gated: true, passed: c.parity, streak: c.parity ? 1 : 0, streakNight: null, reasons: [], allowed: [] }));
      await appendGateVerdicts(history, new Date(runAt), verdicts, `${date}T00:00:00.000Z`);
    }
    const file = join(work, 'status', 'board.html');
    const result = await runCli(['status', '--history', history, '--html', file], { DATABASE_URL: '' });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`board: ${file}`);

    const { page, problems, requests } = await open(file);
    expect(await page.locator('#board tr').count()).toBe(6); // the shop's five transformations and the header
    expect(await page.locator('svg.history').count()).toBe(2);
    const chart = (name: string) => page.locator(`#t-${name} svg.history`);
    expect(await chart('orders_enriched').locator('g.point').count()).toBe(3);
    expect(await chart('orders_enriched').locator('g.point.violated').count()).toBe(2);
    expect(await chart('orders_enriched').locator('g.category').evaluateAll((rows) => rows.map((row) => (row as unknown as { dataset: { category: string } }).dataset.category))).toEqual(['join_as_of_event_time', 'late_arrival', 'unexplained']);
    expect(await chart('orders_enriched').locator('g.category[data-category="late_arrival"] g.cell').evaluateAll((cells) => cells.map((cell) => (cell as unknown as { dataset: { count: string } }).dataset.count))).toEqual(['2', '1', '0']);
    expect(await chart('daily_revenue_by_region').locator('g.category').count()).toBe(1);
    expect(await chart('daily_revenue_by_region').locator('g.cell').count()).toBe(3);
    expect(await page.locator('#t-customer_lifetime_value').innerText()).toContain('No run recorded in the history yet');
    // Not a blank picture: the chart's screenshot has ink in its plot.
    const png = (await chart('orders_enriched').screenshot()).toString('base64');
    const blank = await browser.newPage();
    const ink = (await blank.evaluate(`${MEASURE_INK}(${JSON.stringify({ png, marks: [], plot: { x0: 180, x1: 360, y0: 10, y1: 160 } })})`)) as Ink;
    expect(ink.plotInk).toBeGreaterThan(300);
    await blank.close();
    await page.screenshot({ path: join(artifacts, 'status-board.png'), fullPage: true });
    expect(problems).toEqual([]);
    expect(requests).toEqual([]);
    await page.close();
  });
});
