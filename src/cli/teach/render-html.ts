/**
 * The chapters as one self-contained HTML page: inline styles, no script, no request to anywhere, and
 * one small chart per chapter as inline SVG (horizontal bars, batch and event sides in their own
 * colours, log-scale charts with a tick per decade). Every text is escaped.
 */
import { barLengths, logRange, type RunInfo } from './render-text.ts';
import type { Chart, ChapterResult } from './types.ts';

const escapeHtml = (text: string): string => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

/** Escaped text with `code` spans. */
const prose = (text: string): string => escapeHtml(text).replace(/`([^`]+)`/g, '<code>$1</code>');

const COLOURS = { batch: '#c2410c', stream: '#1d4ed8', other: '#4b5563' } as const;

const LABEL = 210;
const BARS = 320;
const ROW = 26;

/** A horizontal bar chart: a bar per figure, the measured value beside it. */
export function chartSvg(chart: Chart, chapter: number): string {
  const lengths = barLengths(chart, BARS);
  const top = 28;
  const height = top + chart.bars.length * ROW + (chart.scale === 'log' ? 22 : 8);
  const width = LABEL + BARS + 230;
  const parts: string[] = [
    `<svg class="chart" data-chapter="${chapter}" role="img" aria-label="${escapeHtml(chart.title)}" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<title>${escapeHtml(chart.title)}</title>`,
    `<text x="0" y="16" class="chart-title">${escapeHtml(chart.title)}</text>`,
  ];
  if (chart.scale === 'log') {
    const positive = chart.bars.map((bar) => bar.value).filter((value) => value > 0);
    if (positive.length > 0) {
      const [low, high] = logRange(positive);
      const bottom = top + chart.bars.length * ROW;
      for (let decade = low; decade <= high; decade += 1) {
        const x = LABEL + ((decade - low) / (high - low)) * BARS;
        parts.push(`<line class="tick" x1="${x.toFixed(1)}" y1="${top - 4}" x2="${x.toFixed(1)}" y2="${bottom}" />`, `<text class="tick-label" x="${x.toFixed(1)}" y="${bottom + 14}" text-anchor="middle">${escapeHtml(decadeLabel(decade, chart.unit))}</text>`);
      }
    }
  }
  chart.bars.forEach((bar, index) => {
    const y = top + index * ROW;
    const length = lengths[index]!;
    parts.push(
      `<g class="bar" data-side="${bar.side}" data-value="${bar.value}">`,
      `<text class="bar-label" x="${LABEL - 8}" y="${y + 15}" text-anchor="end">${escapeHtml(bar.label)}</text>`,
      `<rect x="${LABEL}" y="${y + 3}" width="${length.toFixed(1)}" height="${ROW - 8}" rx="2" fill="${COLOURS[bar.side]}" />`,
      `<text class="bar-value" x="${(LABEL + length + 6).toFixed(1)}" y="${y + 15}">${escapeHtml(bar.text)}</text>`,
      '</g>',
    );
  });
  parts.push('</svg>');
  return parts.join('');
}

function decadeLabel(decade: number, unit: string): string {
  const value = 10 ** decade;
  const text = value >= 1 ? new Intl.NumberFormat('en-US', { notation: 'compact' }).format(value).toLowerCase() : String(Number(value.toPrecision(1)));
  return unit === 'seconds' ? `${text} s` : text;
}

const STYLE = `
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #111827; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; } h2 { font-size: 1.25rem; margin: 2.5rem 0 0.2rem; }
.meta, .question, .note { color: #4b5563; } .question { font-style: italic; margin-top: 0; }
table { border-collapse: collapse; margin: 0.6rem 0; font-size: 0.9rem; } th, td { border-bottom: 1px solid #e5e7eb; padding: 0.25rem 0.7rem 0.25rem 0; text-align: left; vertical-align: top; }
th { font-weight: 600; } .lesson { border-left: 4px solid #1d4ed8; padding: 0.3rem 0 0.3rem 1rem; margin: 1rem 0; }
.claim.holds { color: #15803d; } .claim.fails { color: #b91c1c; font-weight: 600; } .note { font-size: 0.85rem; }
code { font: 0.9em ui-monospace, monospace; background: #f3f4f6; padding: 0 0.2em; }
svg.chart { display: block; margin: 0.8rem 0; max-width: 100%; height: auto; }
.chart-title { font-weight: 600; font-size: 13px; } .bar-label, .bar-value, .tick-label { font-size: 12px; fill: #374151; }
.tick { stroke: #e5e7eb; stroke-width: 1; } .legend span { display: inline-block; width: 0.8em; height: 0.8em; margin: 0 0.3em 0 1em; vertical-align: middle; }
`;

export function renderHtml(results: readonly ChapterResult[], info: RunInfo): string {
  const sections = results.map((result) => {
    const rows = result.figure.rows.map((row) => `<tr>${row.map((value) => `<td>${prose(value)}</td>`).join('')}</tr>`).join('');
    return [
      `<section class="chapter" id="chapter-${result.number}" data-chapter="${result.number}">`,
      `<h2>${result.number}. ${escapeHtml(result.title)}</h2>`,
      `<p class="question">${prose(result.question)}</p>`,
      `<ul class="story">${result.story.map((step) => `<li>${prose(step)}</li>`).join('')}</ul>`,
      chartSvg(result.figure.chart, result.number),
      `<table class="figure"><caption>${prose(result.figure.caption)}</caption><thead><tr>${result.figure.header.map((title) => `<th>${escapeHtml(title)}</th>`).join('')}</tr></thead><tbody>${rows}</tbody></table>`,
      `<p class="lesson"><strong>Lesson.</strong> ${prose(result.lesson)}</p>`,
      `<p class="claim ${result.claim.holds ? 'holds' : 'fails'}">${result.claim.holds ? '✓ This run shows it' : '✗ This run does not show it'}: ${prose(result.claim.text)}.</p>`,
      ...result.notes.map((note) => `<p class="note">${prose(note)}</p>`),
      '</section>',
    ].join('\n');
  });
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Teaching the coupling argument, measured — dualrun</title>
<style>${STYLE}</style>
</head>
<body>
<h1>Teaching the coupling argument, measured</h1>
<p class="meta">Why teams move from a nightly batch job on update-in-place tables to events. Every figure was measured by <code>dualrun teach coupling</code> on ${escapeHtml(info.startedAt.slice(0, 16).replace('T', ' '))} UTC, against ${escapeHtml(info.database)} and Kafka at ${escapeHtml(info.brokers)}.</p>
<p class="legend meta"><span style="background:${COLOURS.batch}"></span>nightly batch on the tables<span style="background:${COLOURS.stream}"></span>events on the log</p>
${sections.join('\n')}
</body>
</html>
`;
}
