import { int, num, pct } from "../format";
import type { Chain } from "../types";

// The headline numbers of the selected expiry's latest chain.

export function Metrics({ chain }: { chain: Chain | null }) {
  const c = chain;
  const cards: [string, string, string?][] = [
    ["PCR (OI)", num(c?.pcr_oi), "put / call open interest"],
    ["PCR (volume)", num(c?.pcr_volume), "put / call volume"],
    ["Max pain", int(c?.max_pain_strike), "strike where option writers pay least"],
    ["ATM straddle", num(c?.atm_straddle), `call + put at ${int(c?.atm_strike)}`],
    ["Expected move", c ? `±${num(c.expected_move)}` : "—", c && c.expected_move ? `±${pct(c.expected_move / c.spot, 2)} to expiry` : ""],
    ["ATM IV", pct(c?.atm_iv), ""],
    ["IV rank", c?.iv_rank == null ? "—" : num(c.iv_rank, 0), c?.iv_percentile == null ? "" : `percentile ${num(c.iv_percentile, 0)}`],
    ["Support / resistance", c ? `${int(c.support)} / ${int(c.resistance)}` : "—", "highest put / call OI"],
  ];
  return (
    <section class="metrics" aria-label="Metrics">
      {cards.map(([label, value, hint]) => (
        <div class="metric" key={label}>
          <div class="label">{label}</div>
          <div class="value" data-metric={label}>
            {value}
          </div>
          {hint && <div class="hint">{hint}</div>}
        </div>
      ))}
    </section>
  );
}
