/**
 * One self-contained, offline HTML file (inline CSS, no scripts, no external requests): parity per
 * comparison, per-column mismatch bars, the explanation breakdown, and samples side by side.
 */
import { DIFFERENCE_CATEGORIES, type DifferenceCategory } from '../../src/differences.ts';
import type { ComparisonResult, Report } from '../types.ts';
import { dateList, parityPercent, reportVerdict, verdictOf, type Verdict } from './markdown.ts';

const esc = (value: unknown): string =>
  (value === null || value === undefined ? '∅' : typeof value === 'object' ? JSON.stringify(value) : String(value)).replace(/[<>&"']/g, (ch) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[ch]!);

const CSS = `body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#1b1f24}h1{font-size:1.5rem}h2{margin-top:2.5rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}th{background:#f6f8fa}
td.n{text-align:right;font-variant-numeric:tabular-nums}.ok{color:#1a7f37;font-weight:600}.warn{color:#9a6700;font-weight:600}.bad{color:#cf222e;font-weight:600}
.bar{display:inline-block;height:.8rem;background:#cf222e;vertical-align:middle}.bar.expl{background:#0969da}.bar.unexpl{background:#cf222e}
.diff{background:#ffebe9}.muted{color:#57606a}code{background:#f6f8fa;padding:0 .2rem}`;

const MARKS: Record<Verdict, string> = { parity: '<span class="ok">✔</span>', explained: '<span class="warn">⚠</span>', violated: '<span class="bad">✘</span>' };
const WORDS: Record<Verdict, string> = { parity: '<span class="ok">parity</span>', explained: '<span class="warn">explained</span>', violated: '<span class="bad">violated</span>' };
const HEADLINES: Record<Verdict, string> = { parity: '<span class="ok">parity</span>', explained: '<span class="warn">differences, every one explained</span>', violated: '<span class="bad">parity violated</span>' };

function bar(value: number, max: number, cls = ''): string {
  const width = max === 0 ? 0 : Math.max(2, Math.round((value / max) * 200));
  return `<span class="bar ${cls}" style="width:${value === 0 ? 0 : width}px"></span> ${value}`;
}

function comparisonSection(c: ComparisonResult, index: number): string {
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
${c.differences.length > 0 ? `<h3>Differences</h3><table class="differences"><tr><th>key</th><th>difference</th><th>columns</th><th>explanation</th><th>proving events</th></tr>
${c.differences.slice(0, 200).map((d) => `<tr><td>${esc(Object.values(d.key).join(' / '))}</td><td>${esc(d.category)}</td><td>${esc(d.columns.join(', '))}</td><td>${esc(d.explanation)}</td><td>${esc(d.events.join(', '))}</td></tr>`).join('\n')}</table>` : ''}
${samples ? `<h3>Samples (left above, <span class="muted">right below</span>)</h3><table class="samples"><tr><th>difference</th>${valueColumns.map((column) => `<th>${esc(column)}</th>`).join('')}</tr>\n${samples}</table>` : ''}
</section>`;
}

export function renderHtml(report: Report): string {
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
${report.comparisons.map(comparisonSection).join('\n')}
</body></html>
`;
}
