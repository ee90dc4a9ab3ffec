/**
 * What a comparison is asked (`CompareRequest`) and what it answers (`ComparisonResult`): the shape
 * every report is rendered from and the JSON report's schema (bump REPORT_SCHEMA_VERSION on any
 * incompatible change; the CI gate reads it).
 */
import type { DifferenceCategory } from '../src/differences.ts';
import type { Column, ColumnRule } from '../src/transforms/contract.ts';

export const REPORT_SCHEMA_VERSION = 1;

/** How a column's values are compared: as numbers, instants, calendar dates, or text. */
export type ColumnKind = 'number' | 'timestamp' | 'date' | 'string';

export const ROW_CATEGORIES = ['match', 'withinTolerance', 'mismatch', 'onlyLeft', 'onlyRight'] as const;
export type RowCategory = (typeof ROW_CATEGORIES)[number];
export type Counts = Record<RowCategory, number>;

/** Only rows of windows closed at the watermark are compared (daily outputs). */
export interface SettledWindow {
  dateColumn: string;
  graceMs: number;
  timeZone: string;
  /** The run's cut-off / watermark: a window is settled when its end plus grace is ≤ this. */
  watermark: Date;
}

export interface CompareRequest {
  /** The comparison's name in reports (a transformation's name, or "left vs right"). */
  name: string;
  /** Tables already loaded in the comparison's DuckDB database. */
  leftTable: string;
  rightTable: string;
  leftSource: string;
  rightSource: string;
  key: string[];
  /** Declared columns (a contract's): their kinds and rules. Others are inferred from the data. */
  columns?: readonly Column[];
  /** Per-run rule overrides, merged over the declared ones. */
  rules?: Record<string, ColumnRule>;
  /** The overrides were typed as --tolerance / --rule: one that does not fit its column is refused. */
  rulesFromFlags?: boolean;
  window?: SettledWindow;
  /** A dated output's dates the batch ran: rows of other dates are "not run by batch", not compared. */
  ranDates?: { dateColumn: string; dates: readonly string[] };
  /** Differing rows kept per category for the report (default 20). */
  sampleLimit?: number;
  /** Explained differences listed in full in the report (counts always cover all; default 500). */
  differenceLimit?: number;
}

export interface KeyFinding {
  /** Distinct keys affected, per side. */
  left: number;
  right: number;
  /** Rows affected, per side. */
  leftRows: number;
  rightRows: number;
  examples: { side: 'left' | 'right'; key: Record<string, unknown>; rows: number }[];
}

export interface ColumnStats {
  kind: ColumnKind;
  rule: ColumnRule;
  mismatches: number;
  withinTolerance: number;
  /** Largest |left − right| over paired rows (numbers only; null otherwise or when none differ). */
  maxAbsDiff: number | null;
  maxRelDiff: number | null;
}

export interface SchemaDiff {
  /** Columns the left side has and the right lacks, and the other way round. */
  onlyLeft: string[];
  onlyRight: string[];
  typeChanges: { column: string; left: string; right: string }[];
}

export interface Sample {
  category: Exclude<RowCategory, 'match'>;
  key: Record<string, unknown>;
  /** Columns that differ (beyond exact equality). */
  columns: string[];
  left: Record<string, unknown> | null;
  right: Record<string, unknown> | null;
}

export interface ExplainedDifference {
  key: Record<string, unknown>;
  category: Exclude<RowCategory, 'match'>;
  columns: string[];
  explanation: DifferenceCategory;
  /** Input event ids proving the explanation (unexplained: those of a diagnosed bug, if any). */
  events: string[];
  /** What was checked and what the events predicted, in words. */
  reason: string;
  /** Further categories whose effects add up with the main one's to the difference (absent: none). */
  also?: DifferenceCategory[];
  /** The columns whose values (or, for rows on one side only, whose presence) the events were checked to account for. */
  checked?: string[];
  /** The story in time the explanation tells: each proving event's times, the batch's cut-off, the window. */
  timeline?: Timeline;
}

/** A difference's proving events in time, and the instants that decide each side (for the report's pictures). */
export interface Timeline {
  /** Every delivery of each proving event, in arrival order (a redelivery appears again). */
  events: { id: string; type: string; entity: string; eventTime: string; arrivalTime: string; redelivery: boolean }[];
  /** When the batch run the row belongs to saw the database (its date's cut-off, or the last run's). */
  cutoff?: string;
  /** The window of the row's source rows (windowed outputs): its end, end + grace, and when it closed. */
  window?: { id: string; end: string; graceEnd: string; closedAt?: string };
}

export interface ComparisonResult {
  name: string;
  left: { source: string; rows: number };
  right: { source: string; rows: number };
  key: string[];
  counts: Counts;
  /** Rows of windows not yet closed at the watermark: not compared. */
  notYetComparable: { left: number; right: number; watermark: string | null; dates: string[] };
  /** Rows of dates the batch never ran (a dated output whose runs are known): not compared. */
  notRunByBatch: { left: number; right: number; dates: string[] };
  findings: { duplicateKeys: KeyFinding; nullKeys: KeyFinding };
  schema: SchemaDiff;
  columns: Record<string, ColumnStats>;
  samples: Sample[];
  /** Every difference's explanation counted, by category. */
  explained: Partial<Record<DifferenceCategory, number>>;
  differences: ExplainedDifference[];
  /** True when nothing differs beyond tolerance: no mismatch, no row on one side only, no missing column. */
  parity: boolean;
  durationsMs: Record<string, number>;
}

export interface Report {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  tool: 'dualrun';
  generatedAt: string;
  parity: boolean;
  comparisons: ComparisonResult[];
}
