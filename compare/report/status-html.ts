/**
 * `dualrun status --html FILE`: the migration board as one self-contained page (inline CSS and SVG, no
 * scripts): each transformation's stage, last verdict, streak and next step, and the chart of its nights
 * (match rate and differences per category) from the history file.
 */
import type { Night } from '../nights.ts';
import { CSS } from './html.ts';
import { historyChartSvg, historyNotes } from './history-chart.ts';
import { esc } from './svg.ts';

export interface StatusBoardRow {
  transform: string;
  stage: string;
  lastRun: string | null;
  lastVerdict: 'pass' | 'fail' | null;
  streak: number;
  /** ✓ / ✗ per gate run, oldest first. */
  trend: string;
  next: string;
}

export interface StatusPage {
  board: readonly StatusBoardRow[];
  nights: ReadonlyMap<string, readonly Night[]>;
  history: string;
  generatedAt: string;
}

const anchor = (name: string): string => `t-${name.replace(/[^A-Za-z0-9_-]/g, '_')}`;

function chartSection(row: StatusBoardRow, nights: readonly Night[]): string {
  const head = `<section id="${anchor(row.transform)}"><h2>${esc(row.transform)} <span class="muted">(${esc(row.stage)})</span></h2>`;
  if (nights.length === 0) return `${head}<p class="muted">${row.stage === 'legacy' || row.stage === 'retired' ? `Not compared: the stage is ${esc(row.stage)}.` : 'No run recorded in the history yet: run dualrun check.'}</p></section>`;
  const notes = historyNotes(nights);
  return `${head}${historyChartSvg(row.transform, nights)}${notes.length ? `<p class="muted">${notes.map(esc).join('<br>')}</p>` : ''}</section>`;
}

export function renderStatusHtml(page: StatusPage): string {
  const verdict = (row: StatusBoardRow): string => (row.lastVerdict === null ? '—' : row.lastVerdict === 'pass' ? '<span class="ok">✓ pass</span>' : '<span class="bad">✗ fail</span>');
  const rows = page.board
    .map((row) => `<tr><td><a href="#${anchor(row.transform)}">${esc(row.transform)}</a></td><td>${esc(row.stage)}</td><td>${esc(row.lastRun ?? 'never')}</td><td>${verdict(row)}</td><td class="n">${row.streak}</td><td>${esc(row.trend || '—')}</td><td>${esc(row.next)}</td></tr>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>dualrun migration board</title><style>${CSS}</style></head>
<body><h1>dualrun migration board</h1>
<p class="muted">generated ${esc(page.generatedAt)} from <code>${esc(page.history)}</code> · trend: ✓ pass, ✗ fail, oldest first · nights in UTC</p>
<table id="board"><tr><th>transformation</th><th>stage</th><th>last run</th><th>verdict</th><th>streak</th><th>trend</th><th>next step</th></tr>
${rows}</table>
${page.board.map((row) => chartSection(row, page.nights.get(row.transform) ?? [])).join('\n')}
</body></html>
`;
}
