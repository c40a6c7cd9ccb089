// Coalescing live events: while the page waits for the next frame (or sits in a hidden tab, where
// frames pause), only the newest event per record is kept — the newest tick of each product, the
// newest chain of each product and expiry.

import type { LiveEvent } from "./live";

/** The record an event carries, or null (`subscribed` carries it as its snapshot). */
function recordOf({ event, data }: LiveEvent): Record<string, unknown> | null {
  const record = event === "subscribed" ? data?.snapshot : data;
  return record && typeof record === "object" ? (record as Record<string, unknown>) : null;
}

/** What coalescing keys on: record type, product and expiry (the event name when no record). */
export function keyOf(event: LiveEvent): string {
  const record = recordOf(event);
  return record ? `${record.type ?? event.event}:${record.product ?? ""}:${record.expiry ?? ""}` : event.event;
}

function tickOf(event: LiveEvent): number {
  const tick = recordOf(event)?.tick_id;
  return typeof tick === "number" ? tick : Number.MAX_SAFE_INTEGER; // no tick: the latest wins
}

/** Adds `event` to `pending` unless an event with a newer tick already holds its key. */
export function coalesce(pending: Map<string, LiveEvent>, event: LiveEvent): void {
  const key = keyOf(event);
  const held = pending.get(key);
  if (!held || tickOf(held) <= tickOf(event)) pending.set(key, event);
}
