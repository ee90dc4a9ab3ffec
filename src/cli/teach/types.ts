/**
 * What a chapter of `dualrun teach coupling` hands back: the story of what it did (each step with the
 * figures it measured), one figure as a small table and a chart, the lesson drawn from that figure, and
 * the claim the chapter makes with whether this run's figure bears it out. Every number in it was
 * measured in the run; the renderers (terminal, Markdown, HTML) only lay it out.
 */

/** One bar of a chapter's chart. */
export interface Bar {
  label: string;
  value: number;
  /** The value as the text beside the bar ("1,284 rows", "11.9 h"). */
  text: string;
  /** Colours the bar: the nightly batch side, the event side, or neither. */
  side: 'batch' | 'stream' | 'other';
}

export interface Chart {
  title: string;
  /** What the bar lengths measure ("rows read on the source", "seconds"). */
  unit: string;
  /** log: bar lengths on a log10 scale, for figures that differ by orders of magnitude. */
  scale: 'linear' | 'log';
  bars: Bar[];
}

export interface Figure {
  caption: string;
  header: string[];
  rows: string[][];
  chart: Chart;
}

export interface ChapterResult<M = unknown> {
  number: number;
  slug: string;
  title: string;
  /** The question the chapter answers, in one line. */
  question: string;
  /** What happened, step by step, with what each step measured. */
  story: string[];
  figure: Figure;
  /** One paragraph drawn from the figure. */
  lesson: string;
  /** Where figures came from, and what this run could not do (e.g. no CDC). */
  notes: string[];
  /** What the figure must show for the lesson to hold, and whether this run shows it. */
  claim: { text: string; holds: boolean };
  seconds: number;
  /** What the chapter ran in, all of it removed afterwards. */
  ran: { engine: string; database: string; topicPrefix: string };
  /** The raw measurements, for --json and the tests. */
  measured: M;
}
