/**
 * The example shop's business entities, as types and zod schemas. Money and rates are decimal
 * strings (exact, never binary floating point); instants are ISO-8601 UTC strings.
 */
import { z } from 'zod';

export const REGIONS = ['north', 'south', 'east', 'west'] as const;
export const TIERS = ['standard', 'silver', 'gold'] as const;
export const CURRENCIES = ['EUR', 'SEK', 'USD'] as const;
export const ORDER_STATUSES = ['placed', 'paid', 'shipped', 'cancelled'] as const;

export const idSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'an id of 1-64 letters, digits, _ or -');
/** A decimal written with a dot, at most `scale` digits after it: "12.50", "-3", "0.125". */
export const decimalSchema = (scale: number) =>
  z.string().regex(new RegExp(`^-?\\d{1,12}(\\.\\d{1,${scale}})?$`), `a decimal number with at most ${scale} digits after the point, like 12.50`);
export const instantSchema = z.iso.datetime({ offset: true });
export const dateSchema = z.iso.date();

export const customerSchema = z.object({
  customerId: idSchema,
  name: z.string().min(1),
  region: z.enum(REGIONS),
  tier: z.enum(TIERS),
});
export type Customer = z.infer<typeof customerSchema>;

export const productSchema = z.object({
  productId: idSchema,
  name: z.string().min(1),
  category: z.string().min(1),
  price: decimalSchema(2),
  currency: z.enum(CURRENCIES),
});
export type Product = z.infer<typeof productSchema>;

/** How many EUR one unit of `currency` was worth on `rateDate` (EUR itself is always 1). */
export const fxRateSchema = z.object({
  currency: z.enum(CURRENCIES),
  rateDate: dateSchema,
  rateToEur: decimalSchema(8),
});
export type FxRate = z.infer<typeof fxRateSchema>;

export const orderLineSchema = z.object({
  lineNo: z.number().int().positive(),
  productId: idSchema,
  quantity: z.number().int().positive(),
  unitPrice: decimalSchema(2),
  /** Percent off the line, 0-100. */
  discountPct: decimalSchema(2),
});
export type OrderLine = z.infer<typeof orderLineSchema>;

export const orderSchema = z.object({
  orderId: idSchema,
  customerId: idSchema,
  currency: z.enum(CURRENCIES),
  /** When the customer placed it: the order's event time. */
  placedAt: instantSchema,
  lines: z.array(orderLineSchema).min(1),
});
export type Order = z.infer<typeof orderSchema>;
export type OrderStatus = (typeof ORDER_STATUSES)[number];
