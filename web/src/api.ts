// The REST API: auth (login, register, refresh, logout) and the data/analytics reads, with the access
// token refreshed once on a 401 (refresh tokens rotate: the new pair replaces the old).

import type { Bar, Chain, Product, Session, Underlying } from "./types";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const SESSION_KEY = "deltastream.session";

export class Api {
  private session: Session | null;
  private refreshing: Promise<boolean> | null = null;
  onSignedOut: () => void = () => {};

  constructor(readonly baseUrl: string) {
    const saved = sessionStorage.getItem(SESSION_KEY);
    this.session = saved ? (JSON.parse(saved) as Session) : null;
  }

  get user() {
    return this.session?.user ?? null;
  }

  /** The access token, refreshed first when it expires within a minute (the WebSocket's $connect
   * checks it once, at the upgrade). */
  async freshToken(force = false): Promise<string | null> {
    if (!this.session) return null;
    const exp = expiryOf(this.session.token);
    if (force || (exp !== null && exp * 1000 - Date.now() < 60_000)) await this.refresh();
    return this.session?.token ?? null;
  }

  async login(email: string, password: string): Promise<void> {
    this.store(await this.call<Session>("POST", "/api/auth/login", { email, password }, false));
  }

  async register(name: string, email: string, password: string): Promise<void> {
    this.store(await this.call<Session>("POST", "/api/auth/register", { name, email, password }, false));
  }

  async logout(): Promise<void> {
    await this.refreshing; // revoke the newest refresh token, not one a refresh in flight replaces
    const session = this.session;
    this.store(null);
    if (session) {
      await this.call("POST", "/api/auth/logout", { refresh_token: session.refresh_token }, false, session.token)
        .catch(() => undefined); // signed out locally either way
    }
  }

  products = () => this.get<{ products: Product[] }>("/api/data/products").then((r) => r.products);
  expiries = (p: string) => this.get<{ expiries: string[] }>(`/api/data/expiries/${p}`).then((r) => r.expiries);
  chain = (p: string, expiry?: string) =>
    this.get<{ chains: Chain[] }>(`/api/data/chain/${p}${expiry ? `?expiry=${expiry}` : ""}`).then((r) => r.chains[0] ?? null);
  underlying = (p: string) => this.get<{ ticks: Underlying[] }>(`/api/data/underlying/${p}?limit=1`).then((r) => r.ticks[0] ?? null);
  ohlc = (p: string, window: number) => this.get<{ bars: Bar[] }>(`/api/analytics/ohlc/${p}?window=${window}`).then((r) => r.bars);

  private get<T>(path: string): Promise<T> {
    return this.call<T>("GET", path, undefined, true);
  }

  private async call<T>(method: string, path: string, body: unknown, auth: boolean, token?: string): Promise<T> {
    const send = () => {
      const headers: Record<string, string> = {};
      if (body !== undefined) headers["Content-Type"] = "application/json";
      const bearer = token ?? (auth ? this.session?.token : undefined);
      if (bearer) headers.Authorization = `Bearer ${bearer}`;
      return fetch(this.baseUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    };
    let response = await send();
    if (response.status === 401 && auth && (await this.refresh())) response = await send();
    if (!response.ok) {
      const problem = await response.json().catch(() => null);
      const error = problem?.error ?? {};
      if (response.status === 401 && auth) {
        this.store(null);
        this.onSignedOut();
      }
      throw new ApiError(response.status, error.code ?? `HTTP_${response.status}`, error.message ?? response.statusText);
    }
    return (await response.json()) as T;
  }

  /** One refresh at a time; false when there is no session or the refresh token was refused (then
   * the session is over: signed out). A refresh that ends after a sign-out changes nothing. */
  private refresh(): Promise<boolean> {
    const from = this.session;
    if (!from) return Promise.resolve(false);
    this.refreshing ??= this.call<Session>("POST", "/api/auth/refresh", { refresh_token: from.refresh_token }, false)
      .then((session) => {
        if (this.session !== from) return false;
        this.store(session);
        return true;
      })
      .catch((error) => {
        if (error instanceof ApiError && error.status === 401 && this.session === from) {
          this.store(null);
          this.onSignedOut();
        }
        return false;
      })
      .finally(() => {
        this.refreshing = null;
      });
    return this.refreshing;
  }

  private store(session: Session | null) {
    this.session = session;
    if (session) sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
    else sessionStorage.removeItem(SESSION_KEY);
  }
}

/** The `exp` claim of a JWT (seconds), or null when unreadable. */
export function expiryOf(token: string): number | null {
  try {
    const payload = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    return typeof payload.exp === "number" ? payload.exp : null;
  } catch {
    return null;
  }
}
