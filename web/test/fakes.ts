// Test doubles for the browser APIs the page's modules use (no DOM needed): a scriptable WebSocket,
// sessionStorage, and fetch answering from a handler.

import { vi } from "vitest";

export class FakeSocket {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSED = 3;
  static opened: FakeSocket[] = [];
  readyState = FakeSocket.CONNECTING;
  sent: unknown[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((message: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;

  constructor(readonly url: string) {
    FakeSocket.opened.push(this);
  }
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close() {
    this.readyState = FakeSocket.CLOSED;
  }
  // the server's side
  accept() {
    this.readyState = FakeSocket.OPEN;
    this.onopen?.();
  }
  drop() {
    this.readyState = FakeSocket.CLOSED;
    this.onclose?.();
  }
  push(event: string, data: unknown) {
    this.onmessage?.({ data: JSON.stringify({ event, data }) });
  }
}

export function installBrowser() {
  FakeSocket.opened = [];
  const storage = new Map<string, string>();
  vi.stubGlobal("window", globalThis);
  vi.stubGlobal("WebSocket", FakeSocket);
  vi.stubGlobal("sessionStorage", {
    getItem: (k: string) => storage.get(k) ?? null,
    setItem: (k: string, v: string) => void storage.set(k, v),
    removeItem: (k: string) => void storage.delete(k),
  });
  return storage;
}

export type Handler = (method: string, path: string, body: any, auth: string | null) => [number, unknown];

/** fetch() answering from `handler`; records each call as [method, path, bearer]. */
export function installFetch(handler: Handler) {
  const calls: [string, string, string | null][] = [];
  vi.stubGlobal("fetch", async (url: string, init: { method: string; headers: Record<string, string>; body?: string }) => {
    const path = url.replace(/^https?:\/\/[^/]+/, "");
    const bearer = init.headers.Authorization?.replace("Bearer ", "") ?? null;
    calls.push([init.method, path, bearer]);
    const [status, body] = handler(init.method, path, init.body ? JSON.parse(init.body) : undefined, bearer);
    return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
  });
  return calls;
}

/** An unsigned JWT-shaped token expiring `inSeconds` from now (the page only reads `exp`). */
export function token(name: string, inSeconds: number): string {
  const payload = btoa(JSON.stringify({ sub: name, exp: Math.floor(Date.now() / 1000) + inSeconds }));
  return `h.${payload.replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_")}.s`;
}
