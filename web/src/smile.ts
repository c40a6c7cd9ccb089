import type { Chain } from "./types";

/** Out-of-the-money IV by strike (puts at or below spot, calls above: the quotes that carry the
 * information) on the union of the chains' strikes; null where a chain has no quote. */
export function otmSmiles(chains: Chain[]): { strikes: number[]; iv: (number | null)[][] } {
  const strikes = [...new Set(chains.flatMap((c) => c.strikes))].sort((a, b) => a - b);
  const iv = chains.map((c) => {
    const byStrike = new Map<number, number | null>();
    for (const q of c.puts) if (q.strike <= c.spot) byStrike.set(q.strike, q.iv);
    for (const q of c.calls) if (q.strike > c.spot) byStrike.set(q.strike, q.iv);
    return strikes.map((k) => byStrike.get(k) ?? null);
  });
  return { strikes, iv };
}
