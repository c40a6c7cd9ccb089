// Number formatting for dense tables: fixed widths, thin digits, nothing locale-surprising.

const cache = new Map<string, Intl.NumberFormat>();

function formatter(digits: number, compact = false): Intl.NumberFormat {
  const key = `${digits}:${compact}`;
  let f = cache.get(key);
  if (!f) {
    f = new Intl.NumberFormat("en-US", {
      minimumFractionDigits: compact ? 0 : digits,
      maximumFractionDigits: digits,
      notation: compact ? "compact" : "standard",
    });
    cache.set(key, f);
  }
  return f;
}

export const num = (x: number | null | undefined, digits = 2): string =>
  x === null || x === undefined || !Number.isFinite(x) ? "—" : formatter(digits).format(x);

export const int = (x: number | null | undefined): string => num(x, 0);

export const compact = (x: number | null | undefined): string =>
  x === null || x === undefined || !Number.isFinite(x) ? "—" : formatter(1, true).format(x);

export const pct = (x: number | null | undefined, digits = 1): string =>
  x === null || x === undefined || !Number.isFinite(x) ? "—" : `${formatter(digits).format(x * 100)}%`;

export const signed = (x: number | null | undefined): string =>
  x === null || x === undefined || !Number.isFinite(x) ? "—" : `${x > 0 ? "+" : ""}${formatter(0).format(x)}`;

export const time = (iso: string): string => new Date(iso).toLocaleTimeString("en-GB", { hour12: false });
