/**
 * A difference's timeline as the report tells it: one lane per delivery of each proving event, the
 * vertical rules that decide each side (window end, end + grace, when the window closed, the batch
 * cut-off), where each arrival falls against them — and the compact text form the Markdown report
 * prints. The SVG picture (timeline-svg.ts) draws the same model.
 */
import type { Timeline } from '../types.ts';
import { formatDuration, formatInstant, precisionOf } from './time-axis.ts';

export type RuleKind = 'window-end' | 'grace-end' | 'window-closed' | 'cutoff';

export interface TimelineRule {
  kind: RuleKind;
  at: number;
  /** What it is, without its time: "window 2024-06-10 ends", "batch cut-off". */
  label: string;
}

export interface TimelineLane {
  id: string;
  type: string;
  entity: string;
  eventTime: number;
  arrivalTime: number;
  redelivery: boolean;
  /** 1 for the first delivery of this event id, 2 for the next… */
  delivery: number;
  /** Where the arrival falls against the rules: "after the window closed", "before the batch cut-off". */
  verdicts: string[];
  /** Arrived after the window closed or after the cut-off (drawn as late; the words say it too). */
  late: boolean;
}

export interface TimelineModel {
  lanes: TimelineLane[];
  rules: TimelineRule[];
  /** Every instant drawn, for the axis. */
  instants: number[];
  precision: 'minute' | 'second' | 'ms';
}

/** "2024-06-10" stays; a window named by its start instant reads "2024-06-10 01:00". */
export function windowName(id: string): string {
  const ms = /^\d{4}-\d{2}-\d{2}T/.test(id) ? Date.parse(id) : NaN;
  return Number.isNaN(ms) ? id : formatInstant(ms, precisionOf([ms]));
}

const relation = (at: number, rule: number): 'before' | 'at' | 'after' => (at < rule ? 'before' : at > rule ? 'after' : 'at');

export function timelineModel(timeline: Timeline): TimelineModel {
  const rules: TimelineRule[] = [];
  const parse = (iso: string | undefined): number => (iso === undefined ? NaN : Date.parse(iso));
  const window = timeline.window;
  if (window) {
    const name = windowName(window.id);
    const end = parse(window.end);
    const graceEnd = parse(window.graceEnd);
    if (Number.isFinite(end)) rules.push({ kind: 'window-end', at: end, label: `window ${name} ends` });
    if (Number.isFinite(graceEnd)) rules.push({ kind: 'grace-end', at: graceEnd, label: 'window end + grace' });
    const closed = parse(window.closedAt);
    if (Number.isFinite(closed)) rules.push({ kind: 'window-closed', at: closed, label: 'window closed' });
  }
  const cutoff = parse(timeline.cutoff);
  if (Number.isFinite(cutoff)) rules.push({ kind: 'cutoff', at: cutoff, label: 'batch cut-off' });

  const closedAt = rules.find((rule) => rule.kind === 'window-closed')?.at;
  const seen = new Map<string, number>();
  const lanes: TimelineLane[] = [];
  for (const event of timeline.events) {
    const eventTime = Date.parse(event.eventTime);
    const arrivalTime = Date.parse(event.arrivalTime);
    if (!Number.isFinite(eventTime) || !Number.isFinite(arrivalTime)) continue;
    const delivery = (seen.get(event.id) ?? 0) + 1;
    seen.set(event.id, delivery);
    const verdicts: string[] = [];
    let late = false;
    if (closedAt !== undefined) {
      const r = relation(arrivalTime, closedAt);
      verdicts.push(r === 'at' ? 'as the window closed' : `${r} the window closed`);
      late ||= r !== 'before';
    }
    if (Number.isFinite(cutoff)) {
      const r = relation(arrivalTime, cutoff);
      verdicts.push(r === 'at' ? 'at the batch cut-off' : `${r} the batch cut-off`);
      late ||= r !== 'before';
    }
    lanes.push({ id: event.id, type: event.type, entity: event.entity, eventTime, arrivalTime, redelivery: event.redelivery || delivery > 1, delivery, verdicts, late });
  }
  const instants = [...lanes.flatMap((lane) => [lane.eventTime, lane.arrivalTime]), ...rules.map((rule) => rule.at)];
  return { lanes, rules, instants, precision: precisionOf(instants) };
}

/** "<event id> <event type> (<entity>)". */
export function laneTitle(lane: TimelineLane): string {
  return `${lane.id} ${lane.type}${lane.entity ? ` (${lane.entity})` : ''}`;
}

/** "1 h 25 min after its event time" (a clock that runs behind can make it "before"). */
export function delayText(lane: TimelineLane): string {
  const delay = lane.arrivalTime - lane.eventTime;
  return delay === 0 ? 'at its event time' : `${formatDuration(Math.abs(delay))} ${delay > 0 ? 'after' : 'before'} its event time`;
}

/** One line per instant, oldest first (UTC): the compact text form of a timeline; empty when there is nothing to tell. */
export function timelineText(timeline: Timeline): string[] {
  const model = timelineModel(timeline);
  if (model.lanes.length === 0) return [];
  // At one instant: event times first, then the rules, then arrivals (an arrival "at the cut-off" reads after it).
  const lines: { at: number; order: number; text: string }[] = [];
  const told = new Set<string>();
  for (const lane of model.lanes) {
    if (!told.has(lane.id)) {
      told.add(lane.id);
      const deliveries = model.lanes.filter((other) => other.id === lane.id).length;
      lines.push({ at: lane.eventTime, order: 0, text: `○ ${laneTitle(lane)}: event time${deliveries > 1 ? ` (delivered ${deliveries}×)` : ''}` });
    }
    const again = lane.redelivery ? ` again (redelivery${lane.delivery > 1 ? ` ${lane.delivery}` : ''})` : '';
    const verdicts = lane.verdicts.length > 0 ? `: ${lane.verdicts.join(', ')}` : '';
    lines.push({ at: lane.arrivalTime, order: 2, text: `▶ ${lane.id} arrives${again} ${delayText(lane)}${verdicts}` });
  }
  for (const rule of model.rules) lines.push({ at: rule.at, order: 1, text: `${rule.kind === 'cutoff' ? '┃' : '┆'} ${rule.label}` });
  lines.sort((a, b) => a.at - b.at || a.order - b.order);
  return lines.map((line) => `${formatInstant(line.at, model.precision)}  ${line.text}`);
}
