import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { compact, num, pct, signed } from "../format";
import type { Chain, Quote } from "../types";

// calls | strike | puts, ATM highlighted, in-the-money sides shaded, last prices marked up/down
// against the previous update. Rows are keyed by strike and cells only change text: no flicker.

type Side = "call" | "put";

export function ChainTable({ chain }: { chain: Chain | null }) {
  const [greeks, setGreeks] = useState(false);
  const previous = useRef(new Map<string, number>());
  const moves = useMemo(() => {
    const seen = previous.current;
    const result = new Map<string, number>();
    if (!chain) return result;
    for (const [side, quotes] of [["call", chain.calls], ["put", chain.puts]] as const) {
      for (const q of quotes) {
        const key = `${chain.expiry}:${side}:${q.strike}`;
        const before = seen.get(key);
        if (before !== undefined && before !== q.last) result.set(key, Math.sign(q.last - before));
        seen.set(key, q.last);
      }
    }
    return result;
  }, [chain]);

  // the ATM row in view when a product or expiry first shows (not on every update: the reader scrolls)
  const scroller = useRef<HTMLDivElement>(null);
  const centred = useRef<string | null>(null);
  useEffect(() => {
    const key = chain ? `${chain.product}:${chain.expiry}` : null;
    const box = scroller.current;
    if (!chain || !box || centred.current === key) return;
    const row = box.querySelector<HTMLTableRowElement>("tr.atm");
    if (!row) return;
    centred.current = key;
    box.scrollTop = row.offsetTop - box.clientHeight / 2 + row.clientHeight / 2;
  }, [chain]);

  if (!chain) return <section class="panel chain"><p class="muted">Waiting for the first chain…</p></section>;
  const change = new Map(chain.buildup.map((b) => [b.strike, b]));
  const puts = new Map(chain.puts.map((q) => [q.strike, q]));
  const callHead = ["OI", "ΔOI", "Vol", "IV", ...(greeks ? ["Δ", "Γ", "Vega", "Θ"] : []), "Last", "Bid", "Ask"];
  const putHead = [...callHead].reverse();

  const cells = (side: Side, q: Quote | undefined, oiChange: number | undefined, itm: boolean) => {
    const c = (extra = "") => `${itm ? "itm " : ""}${extra}`.trim() || undefined;
    if (!q) return callHead.map((_, i) => <td key={i} class={c()} />);
    const move = moves.get(`${chain.expiry}:${side}:${q.strike}`);
    const row = [
      <td key="oi" class={c()}>{compact(q.oi)}</td>,
      <td key="doi" class={c(oiChange ? (oiChange > 0 ? "up" : "down") : "")}>{signed(oiChange)}</td>,
      <td key="vol" class={c()}>{compact(q.volume)}</td>,
      <td key="iv" class={c()}>{pct(q.iv)}</td>,
      ...(greeks
        ? [
            <td key="d" class={c()}>{num(q.delta, 3)}</td>,
            <td key="g" class={c()}>{num(q.gamma, 5)}</td>,
            <td key="v" class={c()}>{num(q.vega, 2)}</td>,
            <td key="t" class={c()}>{num(q.theta, 2)}</td>,
          ]
        : []),
      <td key="last" class={c(`last ${move === 1 ? "up" : move === -1 ? "down" : ""}`)}>{num(q.last)}</td>,
      <td key="bid" class={c()}>{num(q.bid)}</td>,
      <td key="ask" class={c()}>{num(q.ask)}</td>,
    ];
    return side === "call" ? row : row.reverse();
  };

  return (
    <section class="panel chain" aria-label="Option chain">
      <header>
        <h2>
          Option chain <span class="muted">{chain.expiry}</span>
        </h2>
        <label class="toggle">
          <input type="checkbox" checked={greeks} onChange={(e) => setGreeks(e.currentTarget.checked)} /> Greeks
        </label>
      </header>
      <div class="scroll" ref={scroller}>
        <table class="chain-table" data-testid="chain-table" data-tick={chain.tick_id}>
          <thead>
            <tr>
              <th colSpan={callHead.length} class="side">Calls</th>
              <th />
              <th colSpan={putHead.length} class="side">Puts</th>
            </tr>
            <tr>
              {callHead.map((h) => <th key={`c${h}`}>{h}</th>)}
              <th class="strike">Strike</th>
              {putHead.map((h) => <th key={`p${h}`}>{h}</th>)}
            </tr>
          </thead>
          <tbody>
            {chain.calls.map((call) => {
              const strike = call.strike;
              const b = change.get(strike);
              const atm = strike === chain.atm_strike;
              return (
                <tr key={strike} class={atm ? "atm" : ""} data-strike={strike}>
                  {cells("call", call, b?.call_oi_change, strike < chain.spot)}
                  <td class="strike">{num(strike, strike % 1 ? 2 : 0)}</td>
                  {cells("put", puts.get(strike), b?.put_oi_change, strike > chain.spot)}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
