/**
 * One self-contained, offline HTML file (inline CSS and SVG, no scripts, no external requests): parity
 * per comparison, per-column mismatch bars, the explanation breakdown, the comparison's nights from the
 * history file, each difference with the picture of its proving events in time, and samples side by side.
 */
import { DIFFERENCE_CATEGORIES, type DifferenceCategory } from '../../src/differences.ts';
import type { Night } from '../nights.ts';
import type { ComparisonResult, ExplainedDifference, Report } from '../types.ts';
import { historyChartSvg, historyNotes } from './history-chart.ts';
import { dateList, parityPercent, reportVerdict, verdictOf, type Verdict } from './markdown.ts';
import { esc } from './svg.ts';
import { timelineLegendSvg, timelineSvg } from './timeline-svg.ts';

/** Differences drawn as timelines per comparison (each is listed in the table all the same). */
export const PICTURE_LIMIT = 50;

export interface HtmlContext {
  /** Each comparison's nights, oldest first, this run included (absent: no history section). */
  history?: ReadonlyMap<string, readonly Night[]>;
  /** Why the history could not be read, said in its place. */
  historyProblem?: string;
  /** --redact: the explanations' reasons (which quote predicted and observed values) are left out. */
  redacted?: boolean;
}

export const CSS = `body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#1b1f24}h1{font-size:1.5rem}h2{margin-top:2.5rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}th{background:#f6f8fa}
td.n{text-align:right;font-variant-numeric:tabular-nums}.ok{color:#1a7f37;font-weight:600}.warn{color:#9a6700;font-weight:600}.bad{color:#cf222e;font-weight:600}
.bar{display:inline-block;height:.8rem;background:#cf222e;vertical-align:middle}.bar.expl{background:#0969da}.bar.unexpl{background:#cf222e}
.diff{background:#ffebe9}.muted{color:#57606a}code{background:#f6f8fa;padding:0 .2rem}
svg{max-width:100%;height:auto;display:block}figure{margin:1rem 0 1.5rem}figcaption{margin-bottom:.3rem}figcaption .reason{display:block;color:#57606a;font-size:.85rem}`;

const MARKS: Record<Verdict, string> = { parity: '<span class="ok">✔</span>', explained: '<span class="warn">⚠</span>', violated: '<span class="bad">✘</span>' };
const WORDS: Record<Verdict, string> = { parity: '<span class="ok">parity</span>', explained: '<span class="warn">explained</span>', violated: '<span class="bad">violated</span>' };
const HEADLINES: Record<Verdict, string> = { parity: '<span class="ok">parity</span>', explained: '<span class="warn">differences, every one explained</span>', violated: '<span class="bad">parity violated</span>' };

function bar(value: number, max: number, cls = ''): string {
  const width = max === 0 ? 0 : Math.max(2, Math.round((value / max) * 200));
  return `<span class="bar ${cls}" style="width:${value === 0 ? 0 : width}px"></span> ${value}`;
}

const keyText = (d: ExplainedDifference): string => Object.values(d.key).map((value) => (value === null || value === undefined ? '∅' : String(value))).join(' / ');

const hasTimeline = (d: ExplainedDifference): boolean => (d.timeline?.events.length ?? 0) > 0;

/** The differences drawn: the first PICTURE_LIMIT with a timeline, by their index in the list. */
function drawnOf(c: ComparisonResult): { d: ExplainedDifference; i: number }[] {
  return c.differences
    .map((d, i) => ({ d, i }))
    .filter(({ d }) => hasTimeline(d))
    .slice(0, PICTURE_LIMIT);
}

function timelinesSection(c: ComparisonResult, index: number, drawn: readonly { d: ExplainedDifference; i: number }[], redacted: boolean): string {
  if (drawn.length === 0) return '';
  const figures = drawn.map(({ d, i }) => {
    const title = `${keyText(d)}: ${d.category} explained by ${d.explanation}`;
    const svg = timelineSvg(d.timeline!, { title });
    return `<figure class="timeline" id="c${index}-d${i}" data-key="${esc(JSON.stringify(d.key))}"><figcaption><b>${esc(keyText(d))}</b> — ${esc(d.category)}${d.columns.length ? ` in ${esc(d.columns.join(', '))}` : ''} · <b>${esc(d.explanation)}</b>${d.also?.length ? ` (also ${esc(d.also.join(', '))})` : ''}${redacted ? '' : `<span class="reason">${esc(d.reason)}</span>`}</figcaption>${svg || '<p class="muted">No delivery of its proving events to draw.</p>'}</figure>`;
  });
  const withTimeline = c.differences.filter(hasTimeline).length;
  const more = withTimeline > drawn.length ? `<p class="muted">${withTimeline - drawn.length} more difference(s) with a timeline are not drawn (the first ${PICTURE_LIMIT} are); report.json holds every timeline.</p>` : '';
  return `<h3>In time</h3><p class="muted">Each difference's proving events: every delivery on a lane of its own, against the window and the batch cut-off. Times in UTC.</p>${timelineLegendSvg()}\n${figures.join('\n')}${more}`;
}

function historySection(c: ComparisonResult, context: HtmlContext): string {
  if (context.historyProblem) return `<h3>Nights</h3><p class="muted">The history could not be read: ${esc(context.historyProblem)}</p>`;
  if (!context.history) return '';
  const nights = context.history.get(c.name) ?? [];
  if (nights.filter((night) => !night.current).length === 0) return '<h3>Nights</h3><p class="muted">No earlier night in the history yet: dualrun check and dualrun compare record each run in history.duckdb beside the report.</p>';
  const notes = historyNotes(nights);
  return `<h3>Nights</h3>${historyChartSvg(c.name, nights)}${notes.length ? `<p class="muted">${notes.map(esc).join('<br>')}</p>` : ''}`;
}

function comparisonSection(c: ComparisonResult, index: number, context: HtmlContext): string {
  const drawn = drawnOf(c);
  const drawnIndex = new Set(drawn.map(({ i }) => i));
  const n = c.counts;
  const columns = Object.entries(c.columns);
  const maxColumn = Math.max(0, ...columns.map(([, s]) => s.mismatches + s.withinTolerance));
  const explained = (Object.entries(c.explained) as [DifferenceCategory, number][]).sort((a, b) => b[1] - a[1]);
  const maxExplained = Math.max(0, ...explained.map(([, count]) => count));
  const valueColumns = [...new Set(c.samples.flatMap((s) => Object.keys(s.left ?? s.right ?? {})))];
  const samples = c.samples
    .map((s) => {
      const cells = valueColumns.map((column) => {
        const differs = s.columns.includes(column) || s.left === null || s.right === null;
        return `<td class="${differs ? 'diff' : ''}">${esc(s.left ? s.left[column] : '—')}<br><span class="muted">${esc(s.right ? s.right[column] : '—')}</span></td>`;
      });
      return `<tr><td>${esc(s.category)}</td>${cells.join('')}</tr>`;
    })
    .join('\n');
  return `<section id="c${index}"><h2>${MARKS[verdictOf(c)]} ${esc(c.name)}</h2>
<p><code>${esc(c.left.source)}</code> (${c.left.rows} rows) vs <code>${esc(c.right.source)}</code> (${c.right.rows} rows); key ${esc(c.key.join(', '))}</p>
<table><tr><th>match</th><th>within tolerance</th><th>mismatch</th><th>only left</th><th>only right</th><th>not yet comparable</th><th>duplicate keys</th><th>NULL keys</th></tr>
<tr><td class="n">${n.match}</td><td class="n">${n.withinTolerance}</td><td class="n">${n.mismatch}</td><td class="n">${n.onlyLeft}</td><td class="n">${n.onlyRight}</td><td class="n">${c.notYetComparable.left + c.notYetComparable.right}</td><td class="n">${c.findings.duplicateKeys.left + c.findings.duplicateKeys.right}</td><td class="n">${c.findings.nullKeys.leftRows + c.findings.nullKeys.rightRows}</td></tr></table>
${c.notRunByBatch.left + c.notRunByBatch.right > 0 ? `<p class="muted">Not run by batch (not compared): ${c.notRunByBatch.left} left, ${c.notRunByBatch.right} right rows of ${c.notRunByBatch.dates.length} date(s) the batch never ran (${esc(dateList(c.notRunByBatch.dates))}).</p>` : ''}
${c.schema.onlyLeft.length + c.schema.onlyRight.length + c.schema.typeChanges.length > 0 ? `<p class="bad">Schema: only left ${esc(c.schema.onlyLeft.join(', ') || '—')}; only right ${esc(c.schema.onlyRight.join(', ') || '—')}; type changes ${esc(c.schema.typeChanges.map((t) => `${t.column}: ${t.left} → ${t.right}`).join('; ') || '—')}</p>` : ''}
<h3>Columns</h3><table class="columns"><tr><th>column</th><th>kind</th><th>mismatches (+ within tolerance)</th><th>max abs diff</th><th>max rel diff</th></tr>
${columns.map(([name, s]) => `<tr><td>${esc(name)}</td><td>${esc(s.kind)}</td><td>${bar(s.mismatches + s.withinTolerance, maxColumn)}</td><td class="n">${esc(s.maxAbsDiff ?? '—')}</td><td class="n">${esc(s.maxRelDiff ?? '—')}</td></tr>`).join('\n')}</table>
<h3>Why they differ</h3>${explained.length === 0 ? '<p class="ok">No differences.</p>' : `<table class="categories"><tr><th>explanation</th><th>differences</th><th>meaning</th></tr>
${explained.map(([category, count]) => `<tr><td>${esc(category)}</td><td>${bar(count, maxExplained, category === 'unexplained' ? 'unexpl' : 'expl')}</td><td>${esc(DIFFERENCE_CATEGORIES[category])}</td></tr>`).join('\n')}</table>`}
${historySection(c, context)}
${c.differences.length > 0 ? `<h3>Differences</h3><table class="differences"><tr><th>key</th><th>difference</th><th>columns</th><th>explanation</th><th>proving events</th></tr>
${c.differences.slice(0, 200).map((d, i) => `<tr><td>${drawnIndex.has(i) ? `<a href="#c${index}-d${i}">${esc(keyText(d))}</a>` : esc(keyText(d))}</td><td>${esc(d.category)}</td><td>${esc(d.columns.join(', '))}</td><td>${esc(d.explanation)}</td><td>${esc(d.events.join(', '))}</td></tr>`).join('\n')}</table>` : ''}
${timelinesSection(c, index, drawn, context.redacted === true)}
${samples ? `<h3>Samples (left above, <span class="muted">right below</span>)</h3><table class="samples"><tr><th>difference</th>${valueColumns.map((column) => `<th>${esc(column)}</th>`).join('')}</tr>\n${samples}</table>` : ''}
</section>`;
}

export function renderHtml(report: Report, context: HtmlContext = {}): string {
  const rows = report.comparisons
    .map((c, i) => `<tr><td><a href="#c${i}">${esc(c.name)}</a></td><td>${WORDS[verdictOf(c)]}</td><td class="n">${parityPercent(c)}</td><td class="n">${c.counts.mismatch}</td><td class="n">${c.counts.onlyLeft}</td><td class="n">${c.counts.onlyRight}</td><td class="n">${c.explained.unexplained ?? 0}</td></tr>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>dualrun parity report</title><style>${CSS}</style></head>
<body><h1>dualrun parity report: ${HEADLINES[reportVerdict(report)]}</h1>
<p class="muted">generated ${esc(report.generatedAt)} · report schema ${report.schemaVersion}</p>
<table id="summary"><tr><th>comparison</th><th>verdict</th><th>match rate</th><th>mismatch</th><th>only left</th><th>only right</th><th>unexplained</th></tr>
${rows}</table>
${report.comparisons.map((c, i) => comparisonSection(c, i, context)).join('\n')}
</body></html>
`;
}
