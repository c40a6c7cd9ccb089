import { describe, expect, it } from "vitest";
import { coalesce, keyOf } from "../src/events";
import type { LiveEvent } from "../src/live";

const tick = (product: string, tick_id: number): LiveEvent => ({
  event: "underlying_update",
  data: { type: "enriched_underlying", product, tick_id },
});
const chain = (expiry: string, tick_id: number): LiveEvent => ({
  event: "chain_update",
  data: { type: "enriched_chain", product: "NIFTY", expiry, tick_id },
});

describe("coalescing live events between frames", () => {
  it("keeps the newest tick per product and the newest chain per expiry", () => {
    const pending = new Map<string, LiveEvent>();
    for (const e of [tick("NIFTY", 1), tick("SPY", 1), tick("NIFTY", 3), tick("NIFTY", 2), chain("2026-11-24", 5), chain("2026-12-01", 4)]) {
      coalesce(pending, e);
    }
    expect([...pending.values()]).toEqual([tick("NIFTY", 3), tick("SPY", 1), chain("2026-11-24", 5), chain("2026-12-01", 4)]);
  });

  it("a subscribe snapshot and the room's updates are the same record: the newer wins", () => {
    const snapshot: LiveEvent = { event: "subscribed", data: { room: "product:NIFTY", snapshot: { type: "enriched_underlying", product: "NIFTY", tick_id: 9 } } };
    expect(keyOf(snapshot)).toBe(keyOf(tick("NIFTY", 1)));
    const pending = new Map<string, LiveEvent>();
    coalesce(pending, tick("NIFTY", 10));
    coalesce(pending, snapshot); // older than what is held
    expect([...pending.values()]).toEqual([tick("NIFTY", 10)]);
  });

  it("events without a record are kept by name, the latest winning", () => {
    const pending = new Map<string, LiveEvent>();
    coalesce(pending, { event: "connected", data: { connection_id: "a" } });
    coalesce(pending, { event: "connected", data: { connection_id: "b" } });
    expect(pending.size).toBe(1);
    expect(pending.get(keyOf({ event: "connected", data: {} }))?.data.connection_id).toBe("b");
  });
});
