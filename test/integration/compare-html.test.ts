// The HTML report in real headless Chromium (Debian's chromium; .ci/run installs it): it loads offline
// without console errors or network requests, shows the parity table, the column bars, the explanations
// and the samples; a screenshot is kept under test-artifacts/. JUnit has one testcase per comparison.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReport, compareRelations, writeReports, type ComparisonResult } from '../../compare/index.ts';
import { renderJunit } from '../../compare/report/index.ts';

const artifacts = join(import.meta.dirname, '../../test-artifacts');
let browser: Browser;
let results: ComparisonResult[];

beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const columns = ['order_id', 'region', 'net_amount'];
  results = [
    await compareRelations({
      name: 'orders_enriched',
      left: { kind: 'rows', name: 'batch', columns, rows: [['A', 'north', '10.00'], ['B', 'west', '5.00'], ['C', '<script>alert(1)</script>', '3.00']] },
      right: { kind: 'rows', name: 'stream', columns, rows: [['A', 'north', '10.004'], ['B', 'north', '5.00'], ['D', 'east', '1.00']] },
      key: ['order_id'],
      rules: { net_amount: { abs: 0.005 } },
    }),
    await compareRelations({
      name: 'order_status_current',
      left: { kind: 'rows', name: 'batch', columns: ['order_id', 'status'], rows: [['A', 'paid']] },
      right: { kind: 'rows', name: 'stream', columns: ['order_id', 'status'], rows: [['A', 'paid']] },
      key: ['order_id'],
    }),
  ];
});
afterAll(async () => browser?.close());

describe('HTML report', () => {
  it('loads offline in Chromium without console errors and shows parity, bars, explanations and samples', async () => {
    const dir = join(artifacts, 'compare-report');
    await writeReports(buildReport(results), dir, ['html']);
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    const requests: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    await page.goto(pathToFileURL(join(dir, 'report.html')).href);
    const summary = await page.locator('#summary tr').allInnerTexts();
    expect(summary).toHaveLength(3);
    expect(summary[1]).toMatch(/orders_enriched\s+violated\s+25\.00 %\s+1\s+1\s+1\s+3/);
    expect(summary[2]).toMatch(/order_status_current\s+parity\s+100\.00 %/);
    // Column bars: region differs once (B), net_amount once within tolerance (A).
    const bars = await page.locator('#c0 table.columns .bar').evaluateAll((spans) => spans.map((span) => (span as unknown as { offsetWidth: number }).offsetWidth));
    expect(bars.filter((width) => width > 0)).toHaveLength(2);
    expect(await page.locator('#c0 table.categories').innerText()).toMatch(/unexplained/);
    expect(await page.locator('#c0 table.samples tr').count()).toBe(5);
    // Values are escaped, never executed.
    expect(await page.locator('#c0 table.samples').innerText()).toContain('<script>alert(1)</script>');
    await mkdir(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, 'compare-report.png'), fullPage: true });
    expect(problems).toEqual([]);
    expect(requests.filter((url) => !url.startsWith('file:'))).toEqual([]);
    await page.close();
  });

  it('JUnit: one testcase per comparison, failed ones with the reason', () => {
    const xml = renderJunit(buildReport(results));
    expect(xml.match(/<testcase /g)).toHaveLength(2);
    expect(xml).toMatch(/<testsuite name="dualrun parity" tests="2" failures="1"/);
    expect(xml).toMatch(/name="orders_enriched"[^>]*>\s*<failure message="parity violated: mismatch 1, only left 1, only right 1, unexplained 3"/);
    expect(xml).not.toMatch(/name="order_status_current"[^>]*>\s*<failure/);
  });
});
