/**
 * How every benchmark prints a figure: ours beside the reference measured in the same run, and the
 * ratio (for rates, ours/reference, so 0.8 means 80 % of the reference's speed; for times,
 * ours/reference, so 1.2 means 20 % slower). Also a JSON line for tooling.
 */
export interface Figure {
  name: string;
  ours: number;
  reference: number;
  referenceName: string;
  unit: string;
  /** 'rate' (higher is better) or 'time' (lower is better). */
  kind: 'rate' | 'time';
  goal?: string;
}

export function printFigure(figure: Figure): void {
  const ratio = figure.ours / figure.reference;
  const format = (value: number): string => (value >= 100 ? Math.round(value).toLocaleString('en') : value.toPrecision(3));
  const better = figure.kind === 'rate' ? 'higher is better' : 'lower is better';
  console.log(
    `${figure.name}: ${format(figure.ours)} ${figure.unit} vs ${figure.referenceName} ${format(figure.reference)} ${figure.unit} → ratio ${ratio.toFixed(2)}× (${better})${figure.goal ? `; goal ${figure.goal}` : ''}`,
  );
  console.log(`BENCH ${JSON.stringify({ ...figure, ratio })}`);
}

/** Wall time of an async function, in seconds. */
export async function timeIt<T>(fn: () => Promise<T>): Promise<{ seconds: number; result: T }> {
  const start = process.hrtime.bigint();
  const result = await fn();
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, result };
}
