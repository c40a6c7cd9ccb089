// The shapes the REST API and the WebSocket events carry (ARCHITECTURE §3, §5, §6).

export interface Product {
  symbol: string;
  name: string;
  currency: string;
  lot_size: number;
  strike_step: number;
}

export interface Quote {
  strike: number;
  bid: number;
  ask: number;
  last: number;
  volume: number;
  oi: number;
  iv: number | null;
  delta: number | null;
  gamma: number | null;
  vega: number | null;
  theta: number | null;
}

export interface BuildupRow {
  strike: number;
  call: string;
  call_oi_change: number;
  put: string;
  put_oi_change: number;
}

export interface Chain {
  product: string;
  expiry: string;
  tick_id: number;
  ts: string;
  spot: number;
  strikes: number[];
  calls: Quote[];
  puts: Quote[];
  pcr_oi: number | null;
  pcr_volume: number | null;
  atm_strike: number | null;
  atm_iv: number | null;
  atm_straddle: number | null;
  expected_move: number | null;
  max_pain_strike: number | null;
  support: number | null;
  resistance: number | null;
  iv_rank: number | null;
  iv_percentile: number | null;
  buildup: BuildupRow[];
}

export interface Bar {
  window: number;
  start: string;
  open: number;
  high: number;
  low: number;
  close: number;
  ticks: number;
}

export interface Underlying {
  product: string;
  tick_id: number;
  price: number;
  ts: string;
  ohlc?: Record<string, Bar>;
}

export interface User {
  id: string;
  email: string;
  name: string;
}

export interface Session {
  token: string;
  refresh_token: string;
  expires_in: number;
  user: User;
}

export const WINDOWS = [1, 5, 15] as const;
export type Window = (typeof WINDOWS)[number];
