/**
 * Writes a report in the chosen formats into a folder: report.json, report.md, report.html, junit.xml.
 * The folder then holds this run's reports only: a format not chosen this time loses its older file
 * (report.json from yesterday beside today's report.md would be read as today's). Each file is written
 * under a temporary name and renamed, so an interrupted run never leaves half a report.
 */
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { messageOf } from '../../src/errors.ts';
import { nightOf, readNights, withCurrent } from '../nights.ts';
import type { Report } from '../types.ts';
import { renderHtml, type HtmlContext } from './html.ts';
import { renderJunit } from './junit.ts';
import { renderMarkdown } from './markdown.ts';
import { redactReport } from './redact.ts';

import { REPORT_FILES as FILES, REPORT_FORMATS, type ReportFormat } from './formats.ts';

export { REPORT_FORMATS, type ReportFormat };
/** Nights drawn in the report's history charts. */
const NIGHTS = 10;

export { renderHtml, renderJunit, renderMarkdown, redactReport };

export interface WriteReportsOptions {
  redact?: boolean;
  /** The history file whose nights the HTML report draws (default DIR/history.duckdb; false: none). Only read. */
  history?: string | false;
  /** The night this run judged (its cut-off, ISO), so a re-run replaces that night in the charts. */
  night?: string;
}

export async function writeReports(report: Report, dir: string, formats: ReportFormat[] = REPORT_FORMATS, options: WriteReportsOptions = {}): Promise<string[]> {
  const shown = options.redact ? redactReport(report) : report;
  await mkdir(dir, { recursive: true });
  const history = formats.includes('html') && options.history !== false ? await historyContext(report, options.history || join(dir, 'history.duckdb'), options.night) : {};
  const context: HtmlContext = { ...history, ...(options.redact ? { redacted: true } : {}) };
  const written: string[] = [];
  for (const format of formats) {
    const text = format === 'json' ? `${JSON.stringify(shown, null, 2)}\n` : format === 'md' ? renderMarkdown(shown) : format === 'html' ? renderHtml(shown, context) : renderJunit(shown);
    const path = join(dir, FILES[format]);
    await writeFile(`${path}.partial`, text);
    await rename(`${path}.partial`, path);
    written.push(path);
  }
  for (const format of REPORT_FORMATS.filter((other) => !formats.includes(other))) await rm(join(dir, FILES[format]), { force: true });
  return written;
}

/**
 * The nights of each comparison, this run in its place; none without a history file (a demo keeps none);
 * a history that cannot be read is said in the report, never fatal.
 */
async function historyContext(report: Report, path: string, night: string | undefined): Promise<HtmlContext> {
  if (!existsSync(path)) return {};
  try {
    const nights = await readNights(path, NIGHTS);
    const history = new Map(report.comparisons.map((c) => [c.name, withCurrent(nights.get(c.name) ?? [], nightOf(c, report.generatedAt, night), NIGHTS)]));
    return { history };
  } catch (error) {
    return { historyProblem: messageOf(error) };
  }
}
