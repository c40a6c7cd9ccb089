// The WebSocket API (ARCHITECTURE §6): one connection, rooms resubscribed after every reconnect,
// exponential backoff with jitter, and a ping when the line is quiet (API Gateway closes a
// connection idle for 10 minutes).

export type LiveStatus = "connecting" | "live" | "reconnecting" | "offline";

export interface LiveEvent {
  event: string;
  data: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- per-event shapes in types.ts
}

export interface Room {
  type: "product" | "chain";
  symbol: string;
}

const PING_EVERY_MS = 5 * 60_000;
const MAX_BACKOFF_MS = 15_000;

export class Live {
  status: LiveStatus = "offline";
  private socket: WebSocket | null = null;
  private rooms = new Map<string, Room>();
  private attempt = 0;
  private timer: number | undefined;
  private pinger: number | undefined;
  private stopped = true;
  onStop: () => void = () => {};

  constructor(
    private readonly url: string,
    private readonly token: (force: boolean) => Promise<string | null>,
    private readonly onEvent: (event: LiveEvent) => void,
    private readonly onStatus: (status: LiveStatus) => void,
  ) {}

  start() {
    this.stopped = false;
    void this.open();
  }

  stop() {
    this.stopped = true;
    window.clearTimeout(this.timer);
    window.clearInterval(this.pinger);
    this.socket?.close(1000, "bye");
    this.socket = null;
    this.setStatus("offline");
    this.onStop();
  }

  /** Join exactly `rooms` (leaving the others): what the page shows. */
  watch(rooms: Room[]) {
    const wanted = new Map(rooms.map((r) => [`${r.type}:${r.symbol}`, r]));
    for (const [key, room] of this.rooms) if (!wanted.has(key)) this.send({ action: "unsubscribe", ...room });
    for (const [key, room] of wanted) if (!this.rooms.has(key)) this.send({ action: "subscribe", ...room });
    this.rooms = wanted;
  }

  private async open() {
    if (this.stopped) return;
    this.setStatus(this.attempt === 0 ? "connecting" : "reconnecting");
    // after a failed or dropped connection, refresh the token first: the upgrade's 401 is invisible
    // to the page (a rotated secret, a revoked session), and retrying with it would loop forever
    const token = await this.token(this.attempt > 0);
    if (this.stopped) return;
    if (!token) {
      this.setStatus("offline");
      return;
    }
    const socket = new WebSocket(`${this.url}?token=${encodeURIComponent(token)}`);
    this.socket = socket;
    socket.onopen = () => {
      this.attempt = 0;
      this.setStatus("live");
      for (const room of this.rooms.values()) this.send({ action: "subscribe", ...room });
      window.clearInterval(this.pinger);
      this.pinger = window.setInterval(() => this.send({ action: "ping" }), PING_EVERY_MS);
    };
    socket.onmessage = (message) => {
      let event: LiveEvent;
      try {
        event = JSON.parse(message.data as string) as LiveEvent;
      } catch {
        return; // not ours to show
      }
      this.onEvent(event);
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      window.clearInterval(this.pinger);
      if (this.stopped) return;
      this.setStatus("reconnecting");
      const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.attempt) * (0.5 + Math.random() / 2);
      this.attempt += 1;
      this.timer = window.setTimeout(() => void this.open(), delay);
    };
  }

  private send(message: object) {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  private setStatus(status: LiveStatus) {
    if (status === this.status) return;
    this.status = status;
    this.onStatus(status);
  }
}
