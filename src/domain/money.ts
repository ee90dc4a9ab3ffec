/**
 * Exact decimal money for the streaming side: amounts are scaled bigints, never binary floats, and
 * rounding is half away from zero at 2 decimals — what PostgreSQL's and MariaDB's ROUND(numeric, 2) do,
 * so the batch SQL and this code agree to the cent (DESIGN.md section 4.9).
 */
export const MONEY_SCALE = 2;
export const RATE_SCALE = 8;

/** A decimal string as an integer count of 10^-scale units ("12.5", 2 → 1250n). */
export function toUnits(decimal: string, scale: number): bigint {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(decimal.trim());
  if (!match) throw new RangeError(`not a decimal number: ${JSON.stringify(decimal)}`);
  const [, sign, whole, fraction = ''] = match;
  if (fraction.length > scale) throw new RangeError(`${decimal} has more than ${scale} decimals`);
  const units = BigInt(whole! + fraction.padEnd(scale, '0'));
  return sign === '-' ? -units : units;
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

/** Net amount of an order line in its currency: round(quantity × unit price × (1 − discount/100), 2). */
export function netLineAmount(quantity: number, unitPrice: string, discountPct: string): string {
  const price = toUnits(unitPrice, MONEY_SCALE); // cents
  const keep = 10_000n - toUnits(discountPct, 2); // hundredths of a percent kept, of 10000
  return fromUnits(divRound(BigInt(quantity) * price * keep, 10_000n), MONEY_SCALE);
}

/** An amount converted to EUR at `rateToEur` (EUR per unit), rounded to the cent. */
export function toEur(amount: string, rateToEur: string): string {
  const scaled = toUnits(amount, MONEY_SCALE) * toUnits(rateToEur, RATE_SCALE);
  return fromUnits(divRound(scaled, 10n ** BigInt(RATE_SCALE)), MONEY_SCALE);
}

/** Exact sum of decimal strings at `scale`. */
export function sumDecimals(values: Iterable<string>, scale = MONEY_SCALE): string {
  let total = 0n;
  for (const value of values) total += toUnits(value, scale);
  return fromUnits(total, scale);
}
