/**
 * The source operator every pipeline reads: the orders topic folded into one state per order
 * (OrderPlaced → status changes → delete tombstone) and seen as an `OrderView`. A status change that
 * arrives before its order is kept and applied when the order arrives. The state is what the order
 * task writes to its changelog, so it holds only what recomputing the order's outputs needs.
 */
import type { Order, OrderStatus } from '../../src/domain/entities.ts';
import type { ShopEvent } from '../../src/domain/events.ts';
import type { OrderView } from '../../src/transforms/stream-dsl.ts';
import type { EventIds } from './dedupe.ts';

export interface OrderState {
  order?: Order;
  status?: OrderStatus;
  placedEventId?: string;
  placedArrival?: string;
  /**
   * Per windowed transformation: the view whose contributions the aggregate stage still holds, when
   * it differs from the current view because a change came after the window had closed (late).
   */
  frozen?: Record<string, OrderView | null>;
  /** The ids of this order's events that a redelivery could still repeat (dedupe.ts); they outlive a delete. */
  ids?: EventIds;
}

export type OrderEvent = Extract<ShopEvent, { type: 'OrderPlaced' | 'OrderStatusChanged' | 'OrderDeleted' }>;

export function viewOf(state: OrderState | undefined): OrderView | null {
  if (!state?.order || state.placedEventId === undefined || state.placedArrival === undefined) return null;
  return { order: state.order, status: state.status ?? 'placed', placedEventId: state.placedEventId, placedArrival: state.placedArrival };
}

/** The order's state after `event` (a new object; `state` is not changed). */
export function foldOrderEvent(state: OrderState | undefined, event: OrderEvent, arrival: string): OrderState {
  const next: OrderState = { ...state };
  switch (event.type) {
    case 'OrderPlaced':
      next.order = event.payload;
      next.placedEventId = event.eventId;
      next.placedArrival = arrival;
      break;
    case 'OrderStatusChanged':
      next.status = event.payload.status;
      break;
    case 'OrderDeleted':
      delete next.order;
      delete next.placedEventId;
      delete next.placedArrival;
      delete next.status;
      break;
  }
  return next;
}

/** No order left (its event ids may still be kept for dedupe). */
export function isEmptyState(state: OrderState): boolean {
  return state.order === undefined && state.status === undefined && (state.frozen === undefined || Object.keys(state.frozen).length === 0);
}
