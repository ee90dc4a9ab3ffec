/**
 * Writes a report in the chosen formats into a folder: report.json, report.md, report.html, junit.xml.
 * The folder then holds this run's reports only: a format not chosen this time loses its older file
 * (report.json from yesterday beside today's report.md would be read as today's). Each file is written
 * under a temporary name and renamed, so an interrupted run never leaves half a report.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Report } from '../types.ts';
import { renderHtml } from './html.ts';
import { renderJunit } from './junit.ts';
import { renderMarkdown } from './markdown.ts';
import { redactReport } from './redact.ts';

export type ReportFormat = 'json' | 'md' | 'html' | 'junit';
export const REPORT_FORMATS: ReportFormat[] = ['json', 'md', 'html', 'junit'];
const FILES: Record<ReportFormat, string> = { json: 'report.json', md: 'report.md', html: 'report.html', junit: 'junit.xml' };

export { renderHtml, renderJunit, renderMarkdown, redactReport };

export async function writeReports(report: Report, dir: string, formats: ReportFormat[] = REPORT_FORMATS, options: { redact?: boolean } = {}): Promise<string[]> {
  const shown = options.redact ? redactReport(report) : report;
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const format of formats) {
    const text = format === 'json' ? `${JSON.stringify(shown, null, 2)}\n` : format === 'md' ? renderMarkdown(shown) : format === 'html' ? renderHtml(shown) : renderJunit(shown);
    const path = join(dir, FILES[format]);
    await writeFile(`${path}.partial`, text);
    await rename(`${path}.partial`, path);
    written.push(path);
  }
  for (const format of REPORT_FORMATS.filter((other) => !formats.includes(other))) await rm(join(dir, FILES[format]), { force: true });
  return written;
}
