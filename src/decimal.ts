/**
 * Exact decimals for the streaming side and the comparator's predictions: amounts are scaled bigints,
 * never binary floats, and rounding is half away from zero — what PostgreSQL's and MariaDB's
 * ROUND(numeric, n) do, so batch SQL and pipeline code can agree to the last digit (DESIGN.md section 4.9).
 */

/** A decimal string as an integer count of 10^-scale units ("12.5", 2 → 1250n). */
export function toUnits(decimal: string, scale: number): bigint {
  const small = smallUnits(decimal, scale);
  if (small !== undefined) return BigInt(small);
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(decimal.trim());
  if (!match) throw new RangeError(`not a decimal number: ${JSON.stringify(decimal)}`);
  const [, sign, whole, fraction = ''] = match;
  if (fraction.length > scale) throw new RangeError(`${decimal} has more than ${scale} decimals`);
  const units = BigInt(whole! + fraction.padEnd(scale, '0'));
  return sign === '-' ? -units : units;
}

/**
 * toUnits for the common case, in float arithmetic that is exact below 2^53: a plain decimal of at
 * most 15 digits once scaled. Undefined for anything else (toUnits then parses it strictly). The
 * streaming job converts every amount of every contribution, so this runs millions of times.
 */
export function smallUnits(text: string, scale: number): number | undefined {
  let index = text.charCodeAt(0) === 45 ? 1 : 0; // '-'
  const negative = index === 1;
  let units = 0;
  let digits = 0;
  let decimals = -1; // digits after the point; -1: no point
  for (; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code === 46) {
      if (decimals >= 0 || digits === 0) return undefined;
      decimals = 0;
    } else if (code >= 48 && code <= 57) {
      units = units * 10 + (code - 48);
      digits += 1;
      if (decimals >= 0) decimals += 1;
    } else {
      return undefined;
    }
  }
  if (digits === 0 || decimals === 0) return undefined;
  const places = Math.max(decimals, 0);
  if (places > scale || digits + scale - places > 15) return undefined;
  units *= 10 ** (scale - places);
  return negative ? -units : units;
}

/** Integer units back to a decimal string with exactly `scale` decimals (1250n, 2 → "12.50"). */
export function fromUnits(units: bigint, scale: number): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, '0');
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return negative ? `-${text}` : text;
}

/** Divides and rounds half away from zero. */
export function divRound(numerator: bigint, denominator: bigint): bigint {
  const negative = numerator < 0n !== denominator < 0n;
  const n = numerator < 0n ? -numerator : numerator;
  const d = denominator < 0n ? -denominator : denominator;
  const quotient = (n * 2n + d) / (d * 2n);
  return negative ? -quotient : quotient;
}

/** Exact sum of decimal strings at `scale`. */
export function sumDecimals(values: Iterable<string>, scale: number): string {
  let total = 0n;
  for (const value of values) total += toUnits(value, scale);
  return fromUnits(total, scale);
}

/** A decimal rounded (half away from zero) to `scale` digits and written with exactly that many. */
export function roundDecimal(decimal: string, scale: number): string {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(decimal.trim());
  if (!match) throw new RangeError(`not a decimal number: ${JSON.stringify(decimal)}`);
  const digits = match[3]?.length ?? 0;
  if (digits <= scale) return fromUnits(toUnits(decimal, scale), scale);
  return fromUnits(divRound(toUnits(decimal, digits), 10n ** BigInt(digits - scale)), scale);
}
