import { int, signed } from "../format";
import type { Chain } from "../types";

// OI build-up per strike: long/short build-up, short covering, long unwinding (price × OI change),
// strikes with a change first.

const LABEL: Record<string, string> = {
  LONG_BUILDUP: "Long build-up",
  SHORT_BUILDUP: "Short build-up",
  SHORT_COVERING: "Short covering",
  LONG_UNWINDING: "Long unwinding",
  NEUTRAL: "—",
};

export function Buildup({ chain }: { chain: Chain | null }) {
  const rows = [...(chain?.buildup ?? [])]
    .sort((a, b) => Math.abs(b.call_oi_change) + Math.abs(b.put_oi_change) - (Math.abs(a.call_oi_change) + Math.abs(a.put_oi_change)) || a.strike - b.strike)
    .slice(0, 12);
  return (
    <section class="panel buildup" aria-label="OI build-up">
      <h2>OI build-up</h2>
      <table>
        <thead>
          <tr>
            <th>Call</th>
            <th>ΔOI</th>
            <th>Strike</th>
            <th>ΔOI</th>
            <th>Put</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.strike}>
              <td class={tone(r.call)}>{LABEL[r.call] ?? r.call}</td>
              <td>{signed(r.call_oi_change)}</td>
              <td class="strike">{int(r.strike)}</td>
              <td>{signed(r.put_oi_change)}</td>
              <td class={tone(r.put)}>{LABEL[r.put] ?? r.put}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

const tone = (kind: string) => (kind === "LONG_BUILDUP" || kind === "SHORT_COVERING" ? "up" : kind === "NEUTRAL" ? "muted" : "down");
