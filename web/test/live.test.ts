import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Live, type LiveEvent, type LiveStatus } from "../src/live";
import { FakeSocket, installBrowser } from "./fakes";

describe("Live: the page's WebSocket", () => {
  let statuses: LiveStatus[];
  let events: LiveEvent[];
  let tokens: boolean[];
  let live: Live;

  beforeEach(() => {
    vi.useFakeTimers();
    installBrowser();
    statuses = [];
    events = [];
    tokens = [];
    live = new Live(
      "ws://gw/dev",
      async (force) => {
        tokens.push(force);
        return force ? "fresh+token" : "first token";
      },
      (e) => events.push(e),
      (s) => statuses.push(s),
    );
  });
  afterEach(() => {
    live.stop();
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  const socket = () => FakeSocket.opened.at(-1)!;

  it("connects with the token in the query string and subscribes to the watched rooms once open", async () => {
    live.watch([{ type: "product", symbol: "NIFTY" }, { type: "chain", symbol: "NIFTY" }]);
    live.start();
    await vi.runOnlyPendingTimersAsync();
    expect(socket().url).toBe("ws://gw/dev?token=first%20token");
    expect(socket().sent).toEqual([]); // nothing before the socket opens
    socket().accept();
    expect(socket().sent).toEqual([
      { action: "subscribe", type: "product", symbol: "NIFTY" },
      { action: "subscribe", type: "chain", symbol: "NIFTY" },
    ]);
    expect(statuses).toEqual(["connecting", "live"]);
    socket().push("underlying_update", { product: "NIFTY", tick_id: 7 });
    expect(events).toEqual([{ event: "underlying_update", data: { product: "NIFTY", tick_id: 7 } }]);
  });

  it("switching rooms unsubscribes the old ones and subscribes only the new", async () => {
    live.watch([{ type: "product", symbol: "NIFTY" }, { type: "chain", symbol: "NIFTY" }]);
    live.start();
    await vi.runOnlyPendingTimersAsync();
    socket().accept();
    socket().sent.length = 0;
    live.watch([{ type: "product", symbol: "SPY" }, { type: "chain", symbol: "NIFTY" }]);
    expect(socket().sent).toEqual([
      { action: "unsubscribe", type: "product", symbol: "NIFTY" },
      { action: "subscribe", type: "product", symbol: "SPY" },
    ]);
  });

  it("reconnects after a drop with backoff, a refreshed token, and every room again", async () => {
    live.watch([{ type: "chain", symbol: "SPY" }]);
    live.start();
    await vi.runOnlyPendingTimersAsync();
    socket().accept();
    socket().drop();
    expect(statuses.at(-1)).toBe("reconnecting");
    expect(FakeSocket.opened).toHaveLength(1); // not at once
    await vi.advanceTimersByTimeAsync(600); // first backoff: 250-500 ms
    expect(FakeSocket.opened).toHaveLength(2);
    expect(tokens).toEqual([false, true]); // the reconnect asks for a refreshed token
    expect(socket().url).toBe("ws://gw/dev?token=fresh%2Btoken");
    socket().accept();
    expect(socket().sent).toEqual([{ action: "subscribe", type: "chain", symbol: "SPY" }]);
    expect(statuses.at(-1)).toBe("live");
  });

  it("backs off exponentially while the gateway refuses, up to 15 s", async () => {
    live.start();
    await vi.runOnlyPendingTimersAsync();
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      const before = FakeSocket.opened.length;
      socket().drop();
      let waited = 0;
      while (FakeSocket.opened.length === before) {
        await vi.advanceTimersByTimeAsync(100);
        waited += 100;
      }
      delays.push(waited);
    }
    expect(delays[1]).toBeGreaterThan(delays[0] / 2); // grows (jitter aside)
    expect(delays[5]).toBeGreaterThanOrEqual(4_000);
    expect(Math.max(...delays)).toBeLessThanOrEqual(15_100);
  });

  it("stop() closes the socket, never reconnects, and a stop during the token fetch opens nothing", async () => {
    const stopped = vi.fn();
    live.onStop = stopped;
    live.start();
    live.stop(); // while the token is being fetched
    await vi.runAllTimersAsync();
    expect(FakeSocket.opened).toHaveLength(0);
    expect(stopped).toHaveBeenCalledTimes(1);
    expect(statuses.at(-1)).toBe("offline");
  });
});
