import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Api, ApiError } from "../src/api";
import { installBrowser, installFetch, token } from "./fakes";

const user = { id: "u1", email: "ada@deltastream.dev", name: "Ada" };

describe("Api: sessions and reads", () => {
  let storage: Map<string, string>;
  beforeEach(() => {
    storage = installBrowser();
  });
  afterEach(() => vi.unstubAllGlobals());

  it("refreshes once on a 401 (even for concurrent calls) and retries with the new token", async () => {
    const old = token("old", 600);
    const next = token("next", 600);
    let refreshes = 0;
    const calls = installFetch((_method, path, body, bearer) => {
      if (path === "/api/auth/login") return [200, { token: old, refresh_token: "r1", expires_in: 600, user }];
      if (path === "/api/auth/refresh") {
        refreshes += 1;
        expect(body).toEqual({ refresh_token: "r1" });
        return [200, { token: next, refresh_token: "r2", expires_in: 600, user }];
      }
      return bearer === next ? [200, { expiries: ["2026-11-24"], products: [] }] : [401, { error: { code: "UNAUTHORIZED", message: "expired" } }];
    });
    const api = new Api("http://api");
    await api.login("ada@deltastream.dev", "pw");
    const [a, b] = await Promise.all([api.expiries("NIFTY"), api.expiries("SPY")]);
    expect([a, b]).toEqual([["2026-11-24"], ["2026-11-24"]]);
    expect(refreshes).toBe(1);
    expect(calls.filter(([, p]) => p.startsWith("/api/data")).map(([, , t]) => t)).toEqual([old, old, next, next]);
    expect(JSON.parse(storage.get("deltastream.session")!).refresh_token).toBe("r2"); // the rotated pair kept
  });

  it("a refused refresh ends the session: signed out, nothing stored", async () => {
    installFetch((_m, path) =>
      path === "/api/auth/login"
        ? [200, { token: token("t", 600), refresh_token: "r1", expires_in: 600, user }]
        : [401, { error: { code: "UNAUTHORIZED", message: "refresh token revoked" } }],
    );
    const api = new Api("http://api");
    const signedOut = vi.fn();
    api.onSignedOut = signedOut;
    await api.login("ada@deltastream.dev", "pw");
    await expect(api.products()).rejects.toMatchObject({ status: 401 });
    expect(signedOut).toHaveBeenCalled();
    expect(api.user).toBeNull();
    expect(storage.has("deltastream.session")).toBe(false);
  });

  it("freshToken refreshes a token expiring within a minute, or when forced, else returns it as is", async () => {
    let refreshes = 0;
    installFetch((_m, path) => {
      if (path === "/api/auth/login") return [200, { token: token("soon", 30), refresh_token: "r1", expires_in: 30, user }];
      refreshes += 1;
      return [200, { token: token(`later${refreshes}`, 900), refresh_token: `r${refreshes + 1}`, expires_in: 900, user }];
    });
    const api = new Api("http://api");
    await api.login("ada@deltastream.dev", "pw");
    const first = await api.freshToken();
    expect(refreshes).toBe(1);
    expect(await api.freshToken()).toBe(first); // valid for 15 min: kept
    expect(refreshes).toBe(1);
    expect(await api.freshToken(true)).not.toBe(first);
    expect(refreshes).toBe(2);
  });

  it("signing out while a refresh is in flight does not bring the session back", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const revoked: string[] = [];
    installFetch((_m, path, body) => {
      if (path === "/api/auth/login") return [200, { token: token("soon", 10), refresh_token: "r1", expires_in: 10, user }];
      if (path === "/api/auth/logout") {
        revoked.push(body.refresh_token);
        return [200, {}];
      }
      return [200, { token: token("new", 900), refresh_token: "r2", expires_in: 900, user }];
    });
    const fetchRefresh = globalThis.fetch;
    vi.stubGlobal("fetch", async (url: string, init: RequestInit) => {
      if (url.endsWith("/api/auth/refresh")) await gate;
      return fetchRefresh(url, init);
    });
    const api = new Api("http://api");
    await api.login("ada@deltastream.dev", "pw");
    const refreshing = api.freshToken(); // expires in 10 s: refreshes
    const out = api.logout();
    release();
    await Promise.all([refreshing, out]);
    expect(api.user).toBeNull();
    expect(storage.has("deltastream.session")).toBe(false);
    expect(revoked).toEqual(["r2"]); // the newest refresh token is the one revoked
  });

  it("a refresh that ends after another sign-in does not replace the new session", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const bob = { id: "u2", email: "bob@deltastream.dev", name: "Bob" };
    installFetch((_m, path, body) => {
      if (path === "/api/auth/login") {
        const who = body.email.startsWith("ada") ? user : bob;
        return [200, { token: token(who.name, 10), refresh_token: `r-${who.name}`, expires_in: 10, user: who }];
      }
      return [200, { token: token("ada-new", 900), refresh_token: "r-ada-2", expires_in: 900, user }];
    });
    const answer = globalThis.fetch;
    vi.stubGlobal("fetch", async (url: string, init: RequestInit) => {
      if (url.endsWith("/api/auth/refresh")) await gate;
      return answer(url, init);
    });
    const api = new Api("http://api");
    await api.login("ada@deltastream.dev", "pw");
    const refreshing = api.freshToken(); // Ada's token expires in 10 s
    await api.login("bob@deltastream.dev", "pw");
    release();
    await refreshing;
    expect(api.user?.name).toBe("Bob");
    expect(JSON.parse(storage.get("deltastream.session")!).refresh_token).toBe("r-Bob");
  });

  it("errors carry the API's code and message", async () => {
    installFetch(() => [429, { error: { code: "TOO_MANY_REQUESTS", message: "slow down" } }]);
    const api = new Api("http://api");
    const error = await api.login("a@b.dev", "x").catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 429, code: "TOO_MANY_REQUESTS", message: "slow down" });
  });
});
