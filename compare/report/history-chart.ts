/**
 * A transformation's nights in one small SVG: the match rate per night (a filled dot on a night with
 * parity, a cross on one without; the value written above it), then one row per category of difference
 * seen in these nights, each night's count written in its cell over a bar of that height. The night's
 * cut-off date (UTC) under each column; the run being reported is marked "this run". Classes
 * (`point`, `cell`) let a test count what is drawn.
 */
import { DIFFERENCE_CATEGORIES, type DifferenceCategory } from '../../src/differences.ts';
import { matchRate, type Night } from '../nights.ts';
import { FONT, esc, label, n } from './svg.ts';

const MAX_WIDTH = 800;
const GUTTER = 180;
const SIZE = 11;
const INK = '#1b1f24';
const MUTED = '#57606a';
const BAR = '#0969da';
const BAD = '#cf222e';
/** The match-rate panel's lower bound: the highest of these at or below the worst night. */
const FLOORS = [99.9, 99, 95, 90, 75, 50, 0];

const rateText = (rate: number | null): string => (rate === null ? '—' : rate === 100 ? '100' : rate >= 99 ? rate.toFixed(2) : rate.toFixed(1));

/** The categories drawn: those with a difference on some night (in DIFFERENCE_CATEGORIES order, unexplained last). */
export function chartCategories(nights: readonly Night[]): DifferenceCategory[] {
  const seen = (category: DifferenceCategory): boolean => nights.some((night) => (category === 'unexplained' ? night.unexplained : (night.categories?.[category] ?? 0)) > 0);
  return (Object.keys(DIFFERENCE_CATEGORIES) as DifferenceCategory[]).filter(seen);
}

/** The history chart of one comparison's nights (oldest first); '' when there is none. */
export function historyChartSvg(name: string, nights: readonly Night[]): string {
  if (nights.length === 0) return '';
  const column = Math.max(22, Math.min(64, (MAX_WIDTH - GUTTER - 16) / nights.length));
  const width = Math.round(GUTTER + nights.length * column + 16);
  const cx = (i: number): number => GUTTER + (i + 0.5) * column;
  const rates = nights.map((night) => matchRate(night.counts));
  const worst = Math.min(100, ...rates.filter((rate): rate is number => rate !== null));
  const floor = FLOORS.find((candidate) => candidate < worst) ?? 0;
  const categories = chartCategories(nights);
  const countOf = (night: Night, category: DifferenceCategory): number | null => (category === 'unexplained' ? night.unexplained : night.categories === null ? null : (night.categories[category] ?? 0));
  const most = Math.max(1, ...nights.flatMap((night) => categories.map((category) => countOf(night, category) ?? 0)));
  const labelEvery = Math.ceil(48 / column);

  const rateTop = 22;
  const rateBottom = 72;
  const y = (rate: number): number => rateBottom - ((Math.max(floor, rate) - floor) / (100 - floor)) * (rateBottom - rateTop);
  const rowsTop = rateBottom + 16;
  const ROW = 26;
  const rowsBottom = rowsTop + Math.max(1, categories.length) * ROW;
  const height = rowsBottom + 34;

  const parts: string[] = [];
  parts.push(`<svg class="history" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" font-family="${esc(FONT)}" font-size="${SIZE}" fill="${INK}">`);
  parts.push(`<title>${esc(`History of ${name}: match rate and differences per category, ${nights.length} night(s)`)}</title><desc>${esc(describe(nights, categories, countOf))}</desc>`);

  // Match rate: the panel's bounds, the line through the nights, a dot (parity) or a cross (violated) per night.
  parts.push(`<g class="rate">${label(8, rateTop + 4, 'match rate %')}${label(GUTTER - 6, rateTop + 4, '100', { 'text-anchor': 'end', fill: MUTED })}${label(GUTTER - 6, rateBottom + 4, String(floor), { 'text-anchor': 'end', fill: MUTED })}`);
  for (const at of [rateTop, rateBottom]) parts.push(`<line x1="${GUTTER}" y1="${at}" x2="${width - 16}" y2="${at}" stroke="#d0d7de"/>`);
  const path = rates.map((rate, i) => (rate === null ? null : `${n(cx(i))},${n(y(rate))}`)).filter((point) => point !== null);
  if (path.length > 1) parts.push(`<polyline points="${path.join(' ')}" fill="none" stroke="${MUTED}" stroke-width="1.2"/>`);
  nights.forEach((night, i) => {
    const rate = rates[i]!;
    const x = cx(i);
    const at = rate === null ? rateBottom : y(rate);
    const mark = night.parity
      ? `<circle cx="${n(x)}" cy="${n(at)}" r="4" fill="${INK}"/>`
      : `<path d="M${n(x - 4)} ${n(at - 4)}L${n(x + 4)} ${n(at + 4)}M${n(x - 4)} ${n(at + 4)}L${n(x + 4)} ${n(at - 4)}" stroke="${BAD}" stroke-width="2.2"/>`;
    const value = i % labelEvery === (nights.length - 1) % labelEvery ? label(x, at - 8, rateText(rate), { 'text-anchor': 'middle', 'font-size': 10 }) : '';
    parts.push(`<g class="point ${night.parity ? 'parity' : 'violated'}" data-night="${esc(night.night)}"><title>${esc(`${nightLabel(night)}: ${night.parity ? 'parity' : 'parity violated'}, match rate ${rateText(rate)} %`)}</title>${mark}${value}</g>`);
  });
  parts.push('</g>');

  // Differences per category: the count in words over a bar; "–" where the history did not record it.
  parts.push('<g class="categories">');
  if (categories.length === 0) parts.push(label(8, rowsTop + 16, 'differences: none on these nights', { fill: MUTED }));
  categories.forEach((category, row) => {
    const top = rowsTop + row * ROW;
    const bad = category === 'unexplained';
    parts.push(`<g class="category" data-category="${category}">${label(8, top + 17, category, bad ? { 'font-weight': 'bold' } : {})}<line x1="${GUTTER}" y1="${top + ROW - 1}" x2="${width - 16}" y2="${top + ROW - 1}" stroke="#eaeef2"/>`);
    nights.forEach((night, i) => {
      const count = countOf(night, category);
      const barHeight = count ? Math.max(2, (count / most) * 12) : 0;
      const bar = barHeight > 0 ? `<rect x="${n(cx(i) - column * 0.25)}" y="${n(top + ROW - 2 - barHeight)}" width="${n(column * 0.5)}" height="${n(barHeight)}" fill="${bad ? BAD : BAR}" opacity="0.35"/>` : '';
      const text = count === null ? '–' : String(count);
      parts.push(`<g class="cell" data-count="${count ?? ''}">${bar}${label(cx(i), top + 15, text, { 'text-anchor': 'middle', ...(count ? { 'font-weight': 'bold' } : { fill: MUTED }) })}</g>`);
    });
    parts.push('</g>');
  });
  parts.push('</g>');

  // The nights: date under each column (thinned when they crowd), "this run" under the one reported.
  parts.push(`<g class="nights" font-size="10" fill="${MUTED}">${label(8, rowsBottom + 14, 'cut-off (UTC)', { fill: MUTED })}`);
  nights.forEach((night, i) => {
    if (i % labelEvery === (nights.length - 1) % labelEvery) parts.push(`<text x="${n(cx(i))}" y="${rowsBottom + 14}" text-anchor="middle">${esc(shortNight(night, nights))}</text>`);
    if (night.current) parts.push(`<text x="${n(cx(i))}" y="${rowsBottom + 27}" text-anchor="middle" font-weight="bold" fill="${INK}">this run</text>`);
  });
  parts.push('</g></svg>');
  return parts.join('\n');
}

/** What the marks "*" and "–" of these nights mean, when they are drawn. */
export function historyNotes(nights: readonly Night[]): string[] {
  const notes: string[] = [];
  if (nights.some((night) => !night.nightKnown)) notes.push('* a run with no recorded cut-off (dualrun compare, or this run): placed at its run time');
  if (nights.some((night) => night.categories === null) && chartCategories(nights).some((category) => category !== 'unexplained')) notes.push('– not recorded: the history of that night predates per-category counts');
  return notes;
}

/** The night's date (UTC) — or, for a run without a recorded cut-off, its run time. */
function nightLabel(night: Night): string {
  return night.nightKnown ? `night of the cut-off ${night.night.slice(0, 16).replace('T', ' ')}` : `run at ${night.runAt.slice(0, 16).replace('T', ' ')}`;
}

function shortNight(night: Night, all: readonly Night[]): string {
  const years = new Set(all.map((other) => other.night.slice(0, 4)));
  const date = years.size > 1 ? night.night.slice(0, 10) : night.night.slice(5, 10);
  return night.nightKnown ? date : `${date}*`;
}

function describe(nights: readonly Night[], categories: readonly DifferenceCategory[], countOf: (night: Night, category: DifferenceCategory) => number | null): string {
  return nights
    .map((night) => {
      const counts = categories.map((category) => `${category} ${countOf(night, category) ?? 'not recorded'}`).join(', ');
      return `${nightLabel(night)}${night.current ? ' (this run)' : ''}: ${night.parity ? 'parity' : 'violated'}, match rate ${rateText(matchRate(night.counts))} %${counts ? `; ${counts}` : ''}`;
    })
    .join('\n');
}
