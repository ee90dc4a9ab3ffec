/**
 * The picture of one difference: a time axis (UTC); one lane per delivery of each proving event, with
 * a hollow circle at its event time and a filled triangle at its arrival, joined by a line (dashed for
 * a redelivery, which gets a lane of its own) and labelled with the delay (marks closer than their size
 * are set side by side); vertical rules for the
 * window's end (dashed), end + grace (dotted, the grace shaded), when the window closed (dash-dot) and
 * the batch cut-off (solid, heavy), each named in text with its time. Shape, dash and words carry the
 * meaning; colour only helps. Marks carry classes (`mark event-time`, `mark arrival`, `rule <kind>`) and
 * lanes and rules their instants (`data-event-time`, `data-arrival`, `data-at`), so a test can check them.
 */
import type { Timeline } from '../types.ts';
import { FONT, esc, fit, label, n, stackLabels, textWidth } from './svg.ts';
import { formatDuration, formatInstant, timeAxis, type TimeAxis } from './time-axis.ts';
import { delayText, laneTitle, timelineModel, timelineText, type RuleKind, type TimelineLane, type TimelineModel } from './timeline.ts';

const WIDTH = 800;
const GUTTER = 210;
const RIGHT = 785;
const LANE = 30;
const ROW = 14;
const SIZE = 11;

const iso = (ms: number): string => new Date(ms).toISOString();
const INK = '#1b1f24';
const MUTED = '#57606a';
const EVENT = '#0969da';
const LATE = '#cf222e';

/** How each rule is drawn: dash pattern and weight (the label names it too). */
export const RULE_STYLE: Record<RuleKind, { dash: string; width: number; color: string }> = {
  'window-end': { dash: '6 4', width: 1.2, color: MUTED },
  'grace-end': { dash: '1.5 3', width: 1.6, color: MUTED },
  'window-closed': { dash: '8 3 2 3', width: 1.2, color: INK },
  cutoff: { dash: '', width: 2.5, color: LATE },
};

export interface TimelineSvgOptions {
  /** What the picture is of (the difference's key and explanation), for its title. */
  title?: string;
}

/** The SVG of a difference's timeline; '' when it has no delivery to draw. */
export function timelineSvg(timeline: Timeline, options: TimelineSvgOptions = {}): string {
  const model = timelineModel(timeline);
  const axis = timeAxis(model.instants, GUTTER, RIGHT);
  if (model.lanes.length === 0 || !axis) return '';
  const sameDay = new Set(model.instants.map((ms) => new Date(ms).toISOString().slice(0, 10))).size === 1;
  const short = (ms: number): string => (sameDay ? formatInstant(ms, model.precision, true) : formatInstant(ms, model.precision).slice(5));

  const labels = stackLabels(
    [...model.rules.map((rule) => ({ x: axis.x(rule.at), text: `${rule.label} ${short(rule.at)}` })), ...axis.breaks.map((cut) => ({ x: (cut.x0 + cut.x1) / 2, text: `≈ ${formatDuration(cut.gapMs)} not drawn` }))],
    RIGHT + 10,
    SIZE,
  );
  const rows = Math.max(0, ...labels.map((placed) => placed.row + 1));
  const top = 6 + rows * ROW + 6;
  const axisY = top + model.lanes.length * LANE + 4;
  const height = axisY + 44;
  const labelY = (row: number): number => 6 + (row + 1) * ROW - 3;

  const parts: string[] = [];
  const title = options.title ? `Timeline of ${options.title}` : 'Timeline of the proving events';
  parts.push(`<svg class="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" role="img" font-family="${esc(FONT)}" font-size="${SIZE}" fill="${INK}">`);
  parts.push(`<title>${esc(title)}</title><desc>${esc(timelineText(timeline).join('\n'))}</desc>`);

  // The grace period, shaded between the window's end and end + grace.
  const end = model.rules.find((rule) => rule.kind === 'window-end');
  const grace = model.rules.find((rule) => rule.kind === 'grace-end');
  if (end && grace && grace.at > end.at) parts.push(`<rect class="grace" x="${n(axis.x(end.at))}" y="${n(top)}" width="${n(axis.x(grace.at) - axis.x(end.at))}" height="${n(axisY - top)}" fill="#eaeef2"/>`);

  parts.push(...breaks(axis, top, axisY));
  model.rules.forEach((rule, i) => {
    const placed = labels[i]!;
    const style = RULE_STYLE[rule.kind];
    const x = axis.x(rule.at);
    parts.push(
      `<g class="rule ${rule.kind}" data-at="${iso(rule.at)}"><line x1="${n(x)}" y1="${n(labelY(placed.row) + 3)}" x2="${n(x)}" y2="${n(axisY)}" stroke="${style.color}" stroke-width="${style.width}"${style.dash ? ` stroke-dasharray="${style.dash}"` : ''}/>` +
        `${label(placed.anchor === 'start' ? x + 3 : x - 3, labelY(placed.row), placed.text, { 'text-anchor': placed.anchor, ...(rule.kind === 'cutoff' ? { 'font-weight': 'bold' } : {}) })}</g>`,
    );
  });
  axis.breaks.forEach((cut, i) => {
    const placed = labels[model.rules.length + i]!;
    parts.push(`<g class="break-label">${label(placed.anchor === 'start' ? placed.x + 3 : placed.x - 3, labelY(placed.row), placed.text, { 'text-anchor': placed.anchor, fill: MUTED })}</g>`);
  });
  model.lanes.forEach((lane, i) => parts.push(laneSvg(lane, top + i * LANE + LANE / 2, axis, model)));
  parts.push(axisSvg(axis, axisY));
  parts.push('</svg>');
  return parts.join('\n');
}

function laneSvg(lane: TimelineLane, y: number, axis: TimeAxis, model: TimelineModel): string {
  const ex = axis.x(lane.eventTime);
  // Marks closer than their size are drawn side by side, in time order (the delay label says how close),
  // but never moved across a rule: an arrival before the cut-off stays before it.
  const apart = lane.arrivalTime > lane.eventTime ? 1 : lane.arrivalTime < lane.eventTime ? -1 : 0;
  const exact = axis.x(lane.arrivalTime);
  let ax = exact;
  if (apart > 0) ax = Math.max(exact, Math.min(ex + 9, ...model.rules.filter((rule) => rule.at > lane.arrivalTime).map((rule) => axis.x(rule.at) - 2)));
  if (apart < 0) ax = Math.min(exact, Math.max(ex - 9, ...model.rules.filter((rule) => rule.at < lane.arrivalTime).map((rule) => axis.x(rule.at) + 2)));
  const at = (ms: number): string => formatInstant(ms, model.precision);
  const color = lane.late ? LATE : INK;
  const second = `${lane.type}${lane.entity ? ` · ${lane.entity}` : ''}`;
  // A redelivery says so on its first line, whatever the length of the id.
  const again = lane.redelivery ? ` ↻ redelivery${lane.delivery > 1 ? ` ${lane.delivery}` : ''}` : '';
  const first = `${fit(lane.id, GUTTER - 14 - textWidth(again, SIZE), SIZE)}${again}`;
  const dir = ax >= ex ? 1 : -1;
  const triangle = `M${n(ax - 4.5 * dir)} ${n(y - 5)}L${n(ax + 4.5 * dir)} ${n(y)}L${n(ax - 4.5 * dir)} ${n(y + 5)}Z`;
  const delay = formatDuration(lane.arrivalTime - lane.eventTime, true);
  const width = textWidth(delay, 10);
  const left = Math.min(ex, ax);
  const right = Math.max(ex, ax);
  // The delay above the line when it fits, else beside the later mark, else before the earlier one.
  const delayAt =
    right - left >= width + 16 ? { x: (left + right) / 2, y: y - 6, anchor: 'middle' } : right + 9 + width <= RIGHT + 12 ? { x: right + 9, y: y + 4, anchor: 'start' } : { x: left - 9, y: y + 4, anchor: 'end' };
  return [
    `<g class="lane${lane.redelivery ? ' redelivery' : ''}" data-event="${esc(lane.id)}" data-delivery="${lane.delivery}" data-event-time="${iso(lane.eventTime)}" data-arrival="${iso(lane.arrivalTime)}">`,
    `<title>${esc(`${laneTitle(lane)}${lane.redelivery ? `, delivery ${lane.delivery}` : ''}: event time ${at(lane.eventTime)}, arrival ${at(lane.arrivalTime)} (${delayText(lane)}${lane.verdicts.length ? `; ${lane.verdicts.join(', ')}` : ''})`)}</title>`,
    `<text x="8" y="${n(y - 2)}" font-weight="bold">${esc(first)}</text>`,
    `<text x="8" y="${n(y + 10)}" font-size="10" fill="${MUTED}">${esc(fit(second, GUTTER - 14, 10))}</text>`,
    `<line class="delivery" x1="${n(ex)}" y1="${n(y)}" x2="${n(ax)}" y2="${n(y)}" stroke="${color}" stroke-width="1.5"${lane.redelivery ? ' stroke-dasharray="4 3"' : ''}/>`,
    `<circle class="mark event-time" cx="${n(ex)}" cy="${n(y)}" r="4.5" fill="#fff" stroke="${EVENT}" stroke-width="2"/>`,
    `<path class="mark arrival" d="${triangle}" fill="${color}"/>`,
    label(delayAt.x, delayAt.y, delay, { 'text-anchor': delayAt.anchor, 'font-size': 10, fill: color }),
    '</g>',
  ].join('');
}

/** Cut-out gaps: a blank band across the lanes, with a double slash on the axis. */
function breaks(axis: TimeAxis, top: number, axisY: number): string[] {
  return axis.breaks.map((cut) => {
    const mid = (cut.x0 + cut.x1) / 2;
    const slash = (dx: number): string => `<line x1="${n(mid + dx - 4)}" y1="${n(axisY + 6)}" x2="${n(mid + dx + 4)}" y2="${n(axisY - 6)}" stroke="${MUTED}" stroke-width="1.2"/>`;
    return `<g class="break"><rect x="${n(cut.x0 + 4)}" y="${n(top)}" width="${n(cut.x1 - cut.x0 - 8)}" height="${n(axisY - top)}" fill="#f6f8fa"/>${slash(-3)}${slash(3)}</g>`;
  });
}

function axisSvg(axis: TimeAxis, y: number): string {
  const parts = [`<g class="axis" font-size="10" fill="${MUTED}">`, label(8, y + 14, 'time (UTC)', { fill: MUTED })];
  for (const segment of axis.segments) parts.push(`<line x1="${n(segment.x0)}" y1="${n(y)}" x2="${n(segment.x1)}" y2="${n(y)}" stroke="${MUTED}"/>`);
  // The date under the first tick of each day: in full the first time, then "MM-DD" while the year stays.
  let dateEnd = -Infinity;
  let year = '';
  for (const tick of axis.ticks) {
    parts.push(`<line x1="${n(tick.x)}" y1="${n(y)}" x2="${n(tick.x)}" y2="${n(y + 4)}" stroke="${MUTED}"/>`, `<text x="${n(tick.x)}" y="${n(y + 15)}" text-anchor="middle">${esc(tick.label)}</text>`);
    if (!tick.date) continue;
    const text = tick.date.slice(0, 4) === year ? tick.date.slice(5) : tick.date;
    const half = textWidth(text, 10) / 2;
    const x = Math.min(tick.x, WIDTH - half - 2);
    if (x - half > dateEnd + 6) {
      parts.push(`<text x="${n(x)}" y="${n(y + 28)}" text-anchor="middle">${esc(text)}</text>`);
      dateEnd = x + half;
      year = tick.date.slice(0, 4);
    }
  }
  parts.push('</g>');
  return parts.join('');
}

/** The key to every timeline, drawn with the same marks and rules. */
export function timelineLegendSvg(): string {
  const items: string[] = [];
  let x = 8;
  const y = 14;
  const add = (mark: string, text: string, markWidth: number): void => {
    items.push(`${mark}${label(x + markWidth + 5, y + 4, text)}`);
    x += markWidth + 5 + textWidth(text, SIZE) + 16;
  };
  add(`<circle cx="${n(x + 5)}" cy="${y}" r="4.5" fill="#fff" stroke="${EVENT}" stroke-width="2"/>`, 'event time', 10);
  add(`<path d="M${n(x + 1)} ${y - 5}L${n(x + 10)} ${y}L${n(x + 1)} ${y + 5}Z" fill="${INK}"/>`, 'arrival (red: after the window closed or the cut-off)', 10);
  add(`<line x1="${n(x)}" y1="${y}" x2="${n(x + 22)}" y2="${y}" stroke="${INK}" stroke-width="1.5" stroke-dasharray="4 3"/>`, '↻ redelivery', 22);
  const second: string[] = [];
  x = 8;
  for (const [kind, text] of [['window-end', 'window end'], ['grace-end', 'end + grace (grace shaded)'], ['window-closed', 'window closed'], ['cutoff', 'batch cut-off']] as const) {
    const style = RULE_STYLE[kind];
    second.push(`<line x1="${n(x + 4)}" y1="${y + 14}" x2="${n(x + 4)}" y2="${y + 30}" stroke="${style.color}" stroke-width="${style.width}"${style.dash ? ` stroke-dasharray="${style.dash}"` : ''}/>${label(x + 12, y + 26, text)}`);
    x += 12 + textWidth(text, SIZE) + 18;
  }
  return `<svg class="timeline-legend" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} 50" width="${WIDTH}" height="50" role="img" font-family="${esc(FONT)}" font-size="${SIZE}" fill="${INK}"><title>Key to the timelines</title>${items.join('')}${second.join('')}</svg>`;
}
