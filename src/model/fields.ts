/**
 * The typed fields an entity declares. One declaration gives everything that reads or writes the value:
 * the TypeScript type of a view, the check of an event payload, the parser of a scenario CSV field, the
 * legacy database column and the comparator's kind. Values travel in one pinned form everywhere:
 * ids, texts and enums as strings, integers as numbers, decimals as decimal strings (exact, never a
 * float), dates as "YYYY-MM-DD", instants as ISO-8601 UTC with milliseconds, booleans as booleans.
 */

export type FieldKind = 'id' | 'text' | 'enum' | 'integer' | 'decimal' | 'date' | 'instant' | 'boolean';

/** A check's answer: the value in its pinned form, or what a good value looks like (for a person). */
export type Checked<T> = { ok: true; value: T } | { ok: false; expected: string };

export interface Field<T = unknown> {
  readonly kind: FieldKind;
  /** May be absent (null): NULL in the database, an empty CSV field, a missing or null payload value. */
  readonly optional: boolean;
  /** A row starts with this value when the event that creates it does not carry the field. */
  readonly initial: T | undefined;
  /** enum: the values allowed. */
  readonly values?: readonly string[];
  /** decimal: digits after the point (at most; the database column has exactly this scale). */
  readonly scale?: number;
  /** decimal: total digits of the database column. */
  readonly precision?: number;
  /** integer, decimal: smallest and largest value allowed. */
  readonly min?: number;
  readonly max?: number;
  /** id, text, enum: longest value, and the database column's length. */
  readonly maxLength: number;
  /** A payload value (parsed JSON) in its pinned form. */
  check(value: unknown): Checked<T>;
  /** A scenario CSV field (never empty: empty fields are absent) in its pinned form. */
  parse(raw: string): Checked<T>;
}

export type ValueOf<F> = F extends Field<infer T> ? T : never;

interface FieldOptions<T> {
  initial?: T;
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

function make<T>(kind: FieldKind, options: FieldOptions<T>, extra: Partial<Field<T>> & Pick<Field<T>, 'check' | 'maxLength'>, parse?: (raw: string) => Checked<T>): Field<T> {
  return {
    kind,
    optional: false,
    initial: options.initial,
    ...extra,
    parse: parse ?? ((raw) => extra.check(raw)),
  };
}

/** A calendar date that exists, written YYYY-MM-DD. */
export function isDate(text: string): boolean {
  const match = DATE.exec(text);
  if (!match) return false;
  const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  return date.toISOString().slice(0, 10) === text;
}

const lastInstant: { text: string | undefined; canonical: string | undefined } = { text: undefined, canonical: undefined };

/** An ISO-8601 instant with an offset, in the pinned form (`2024-10-27T01:30:00.000Z`), or undefined. */
export function canonicalInstant(text: string): string | undefined {
  // Every event is checked here (its event time and its instant fields, often the same text): the
  // last answer is kept, and a text already in the pinned form is valid exactly when it round-trips.
  if (text === lastInstant.text) return lastInstant.canonical;
  let canonical: string | undefined;
  if (text.length === 24 && text.charCodeAt(10) === 84 && text.charCodeAt(23) === 90) {
    const ms = Date.parse(text);
    if (!Number.isNaN(ms) && new Date(ms).toISOString() === text) canonical = text;
  }
  canonical ??= parseInstant(text);
  lastInstant.text = text;
  lastInstant.canonical = canonical;
  return canonical;
}

function parseInstant(text: string): string | undefined {
  if (!INSTANT.test(text)) return undefined;
  const ms = Date.parse(text);
  if (Number.isNaN(ms) || !isDate(text.slice(0, 10))) return undefined;
  return new Date(ms).toISOString();
}

function decimalCheck(scale: number, precision: number, min: number | undefined, max: number | undefined): (value: unknown) => Checked<string> {
  const pattern = new RegExp(`^-?\\d{1,${precision - scale}}${scale > 0 ? `(\\.\\d{1,${scale}})?` : ''}$`);
  const expected = `a decimal number with at most ${scale} digits after the point, like ${scale > 0 ? `12.${'5'.padEnd(scale, '0')}` : '12'}`;
  const range = `a number${rangeText(min, max)}`;
  return (value) => {
    if (typeof value !== 'string' || !pattern.test(value)) return { ok: false, expected };
    const number = Number(value);
    if ((min !== undefined && number < min) || (max !== undefined && number > max)) return { ok: false, expected: range };
    return { ok: true, value };
  };
}

function rangeText(min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return ` from ${min} to ${max}`;
  if (min !== undefined) return ` of at least ${min}`;
  if (max !== undefined) return ` of at most ${max}`;
  return '';
}

/** The field builders: `field.id()`, `field.decimal(2, { min: 0 })`, `field.enum(['a', 'b'])`, … */
export const field = {
  /** An identifier: 1-64 letters, digits, `_`, `-`, `.` or `:`. */
  id(options: FieldOptions<string> = {}): Field<string> {
    const expected = 'an id of 1-64 letters, digits, _, -, . or :';
    return make('id', options, { maxLength: 64, check: (value) => (typeof value === 'string' && ID.test(value) ? { ok: true, value } : { ok: false, expected }) });
  },

  /** A non-empty text of at most `maxLength` characters (default 200). */
  text(options: FieldOptions<string> & { maxLength?: number } = {}): Field<string> {
    const maxLength = options.maxLength ?? 200;
    const expected = `a non-empty text of at most ${maxLength} characters`;
    return make('text', options, { maxLength, check: (value) => (typeof value === 'string' && value.length > 0 && value.length <= maxLength ? { ok: true, value } : { ok: false, expected }) });
  },

  /** One of `values`. The value returned is the listed string itself, so a million rows share one copy. */
  enum<const V extends readonly [string, ...string[]]>(values: V, options: FieldOptions<V[number]> = {}): Field<V[number]> {
    const expected = `one of ${values.join(', ')}`;
    const maxLength = Math.max(16, ...values.map((value) => value.length));
    return make('enum', options, {
      values,
      maxLength,
      check: (value) => {
        const index = values.indexOf(value as V[number]);
        return index >= 0 ? { ok: true, value: values[index]! } : { ok: false, expected };
      },
    });
  },

  /** A whole number (safe integer), between `min` and `max` when given. */
  integer(options: FieldOptions<number> & { min?: number; max?: number } = {}): Field<number> {
    const { min, max } = options;
    const expected = `a whole number${rangeText(min, max)}`;
    const check = (value: unknown): Checked<number> => {
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) return { ok: false, expected };
      if ((min !== undefined && value < min) || (max !== undefined && value > max)) return { ok: false, expected };
      return { ok: true, value };
    };
    return make('integer', options, { maxLength: 0, check, ...(min === undefined ? {} : { min }), ...(max === undefined ? {} : { max }) }, (raw) =>
      /^-?\d{1,16}$/.test(raw) ? check(Number(raw)) : { ok: false, expected },
    );
  },

  /** An exact decimal with at most `scale` digits after the point; the column is DECIMAL(precision, scale). */
  decimal(scale: number, options: FieldOptions<string> & { precision?: number; min?: number; max?: number } = {}): Field<string> {
    const precision = options.precision ?? 12 + scale;
    const { min, max } = options;
    return make('decimal', options, { scale, precision, maxLength: 0, check: decimalCheck(scale, precision, min, max), ...(min === undefined ? {} : { min }), ...(max === undefined ? {} : { max }) });
  },

  /** A calendar date, YYYY-MM-DD. */
  date(options: FieldOptions<string> = {}): Field<string> {
    const expected = 'a date like 2024-10-27';
    return make('date', options, { maxLength: 0, check: (value) => (typeof value === 'string' && isDate(value) ? { ok: true, value } : { ok: false, expected }) });
  },

  /** An instant: ISO-8601 with an offset; kept in UTC with milliseconds. */
  instant(options: FieldOptions<string> = {}): Field<string> {
    const expected = 'an ISO-8601 UTC time like 2024-10-27T01:30:00Z';
    return make('instant', options, {
      maxLength: 0,
      check: (value) => {
        const canonical = typeof value === 'string' ? canonicalInstant(value) : undefined;
        return canonical === undefined ? { ok: false, expected } : { ok: true, value: canonical };
      },
    });
  },

  /** true or false. */
  boolean(options: FieldOptions<boolean> = {}): Field<boolean> {
    const expected = 'true or false';
    return make('boolean', options, { maxLength: 0, check: (value) => (typeof value === 'boolean' ? { ok: true, value } : { ok: false, expected }) }, (raw) =>
      raw === 'true' ? { ok: true, value: true } : raw === 'false' ? { ok: true, value: false } : { ok: false, expected },
    );
  },
};

/** The same field, optional: absent, null and an empty CSV field are all "no value". */
export function optional<T>(inner: Field<T>): Field<T | null> {
  return { ...inner, optional: true } as Field<T | null>;
}
