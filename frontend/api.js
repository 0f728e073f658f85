// Talking to the api: the /ws/trends websocket (with reconnect) and the REST endpoint.
//
// TrendsClient keeps one websocket open, (re-)subscribes on every open, and reconnects
// with exponential backoff plus jitter. It emits:
//   "status"    {state: "connecting"|"live"|"reconnecting"|"closed", attempt, delay}
//   "snapshot"  the server's snapshot message ({seq, window, items})
//   "delta"     the server's delta message ({seq, upserts, removals})
//   "heartbeat" {seq, at}
//   "error"     {message} — the server rejected something we sent
// TrendStore applies snapshot/delta messages to a Map title_id → item. The fetch* functions
// read the REST api (titles, their history, the ranking at a past time).
// Nothing here touches the DOM, so check.mjs can exercise it under node.

/** Return the websocket URL of the trends stream for a page location. */
export function trendsUrl(location = globalThis.location) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws/trends`;
}

/** Return the delay before reconnect attempt `attempt` (0-based): capped exponential, jittered. */
export function backoffDelay(attempt, { baseMs = 500, maxMs = 15000, random = Math.random } = {}) {
  const ceiling = Math.min(maxMs, baseMs * 2 ** attempt);
  // "Equal jitter": never less than half the ceiling, so a server restart is not hammered
  // by every tab at once, yet the delay still grows.
  return ceiling / 2 + random() * (ceiling / 2);
}

/** A minimal event emitter: on(type, fn) returns a function that unsubscribes. */
export class Emitter {
  #handlers = new Map();

  on(type, handler) {
    if (!this.#handlers.has(type)) this.#handlers.set(type, new Set());
    this.#handlers.get(type).add(handler);
    return () => this.#handlers.get(type)?.delete(handler);
  }

  emit(type, payload) {
    for (const handler of this.#handlers.get(type) ?? []) {
      try {
        handler(payload);
      } catch (error) {
        console.error(`trends: "${type}" handler failed`, error);
      }
    }
  }
}

export const DEFAULT_SUBSCRIPTION = Object.freeze({
  type: "subscribe",
  window: "day",
  genres: [],
  media_types: [],
  limit: 50,
});

export class TrendsClient extends Emitter {
  /**
   * @param {object} options
   * @param {string} [options.url] websocket URL (default: this page's host, /ws/trends)
   * @param {object} [options.subscription] initial subscribe fields (window, genres, …)
   * @param {number} [options.staleAfterMs] reconnect if nothing arrives for this long
   *   (the server sends a heartbeat every 15 s, so silence means a dead connection)
   */
  constructor({
    url = trendsUrl(),
    subscription = {},
    staleAfterMs = 40000,
    WebSocketImpl = globalThis.WebSocket,
    backoff = backoffDelay,
  } = {}) {
    super();
    this.url = url;
    this.subscription = { ...DEFAULT_SUBSCRIPTION, ...subscription };
    this.state = "idle";
    this.attempt = 0;
    this.lastSeq = 0;
    this.staleAfterMs = staleAfterMs;
    this.WebSocketImpl = WebSocketImpl;
    this.backoff = backoff;
    this.socket = null;
    this.awaitingSnapshot = true;
    this.retryTimer = null;
    this.staleTimer = null;
    this.stopped = false;
  }

  /** Open the connection (idempotent). */
  connect() {
    this.stopped = false;
    if (this.socket) return this;
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.#setState(this.attempt === 0 ? "connecting" : "reconnecting");
    let socket;
    try {
      socket = new this.WebSocketImpl(this.url);
    } catch (error) {
      console.error("trends: cannot open websocket", error);
      this.#scheduleReconnect();
      return this;
    }
    this.socket = socket;
    socket.onopen = () => {
      this.attempt = 0;
      this.#setState("live");
      this.#sendSubscribe();
      this.#armStaleTimer();
    };
    socket.onmessage = (event) => this.#onMessage(event.data);
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      clearTimeout(this.staleTimer);
      if (this.stopped) this.#setState("closed");
      else this.#scheduleReconnect();
    };
    // An error is always followed by close; reconnecting is handled there.
    socket.onerror = () => {};
    return this;
  }

  /** Change the subscription (merged into the current one) and tell the server. */
  subscribe(changes = {}) {
    this.subscription = { ...this.subscription, ...changes, type: "subscribe" };
    if (this.state === "live") this.#sendSubscribe();
    return this;
  }

  /** Ask the server again for the current subscription: a fresh snapshot follows. */
  resubscribe() {
    return this.subscribe({});
  }

  /** Reconnect now if we are waiting out a backoff (e.g. the network came back). */
  retryNow() {
    if (!this.socket && !this.stopped) {
      this.attempt = 0;
      this.connect();
    }
  }

  /** Close for good (no reconnect). */
  close() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.staleTimer);
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000, "bye");
    this.#setState("closed");
  }

  #sendSubscribe() {
    // Deltas still in flight for the old subscription must not be applied on top of
    // the new one: ignore deltas until the snapshot that answers this request.
    this.awaitingSnapshot = true;
    this.socket?.send(JSON.stringify(this.subscription));
  }

  #onMessage(data) {
    this.#armStaleTimer();
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      console.warn("trends: ignoring a message that is not JSON");
      return;
    }
    switch (message.type) {
      case "snapshot":
        this.awaitingSnapshot = false;
        this.lastSeq = message.seq;
        this.emit("snapshot", message);
        break;
      case "delta":
        if (this.awaitingSnapshot || message.seq <= this.lastSeq) return;
        this.lastSeq = message.seq;
        this.emit("delta", message);
        break;
      case "heartbeat":
        this.emit("heartbeat", message);
        break;
      case "error":
        console.warn("trends: server says:", message.message);
        this.emit("error", message);
        break;
      default:
        // Newer servers may send more; older clients ignore what they do not know.
        break;
    }
  }

  #armStaleTimer() {
    clearTimeout(this.staleTimer);
    this.staleTimer = setTimeout(() => {
      console.warn("trends: no message for a while; reconnecting");
      const socket = this.socket;
      this.socket = null;
      socket?.close(4000, "stale");
      this.#scheduleReconnect();
    }, this.staleAfterMs);
  }

  #scheduleReconnect() {
    if (this.stopped || this.retryTimer) return;
    const delay = this.backoff(this.attempt);
    this.attempt += 1;
    this.#setState("reconnecting", delay);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
  }

  #setState(state, delay = 0) {
    this.state = state;
    this.emit("status", { state, attempt: this.attempt, delay });
  }
}

/** The current titles of one subscription, kept up to date from snapshot/delta messages. */
export class TrendStore {
  constructor() {
    this.items = new Map();
    this.window = null;
    this.seq = 0;
    this.updatedAt = null;
  }

  /** Replace everything with a snapshot's items. */
  applySnapshot({ seq, window, items }) {
    this.items = new Map(items.map((item) => [item.title_id, item]));
    this.window = window;
    this.seq = seq;
    this.updatedAt = new Date();
    return this;
  }

  /** Apply a delta's upserts and removals. */
  applyDelta({ seq, upserts = [], removals = [] }) {
    for (const id of removals) this.items.delete(id);
    for (const item of upserts) this.items.set(item.title_id, item);
    this.seq = seq;
    this.updatedAt = new Date();
    return this;
  }

  /** Return the items, best rank first. */
  ranked() {
    return [...this.items.values()].sort(
      (a, b) => a.rank - b.rank || b.score - a.score || a.title_id.localeCompare(b.title_id),
    );
  }
}

/** An HTTP error from the api: `status` is the HTTP status (0 when the server is unreachable). */
export class ApiError extends Error {
  constructor(message, status = 0) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
}

/** GET a JSON document from the api, or throw an ApiError that says what went wrong. */
export async function getJson(path, { fetchImpl = globalThis.fetch, signal } = {}) {
  let response;
  try {
    response = await fetchImpl(path, { signal, headers: { accept: "application/json" } });
  } catch (error) {
    if (error?.name === "AbortError") throw error;
    throw new ApiError(`the server cannot be reached (GET ${path.split("?")[0]})`);
  }
  if (!response.ok) {
    const what = response.status === 404 ? "not found" : `HTTP ${response.status}`;
    throw new ApiError(`GET ${path.split("?")[0]}: ${what}`, response.status);
  }
  return response.json();
}

/** Fetch one window's ranking over REST (for scripts and first paint without a socket). */
export function fetchTrends({ window = "day", limit = 50, mediaType = "", genres = [] } = {}, options) {
  const params = new URLSearchParams({ window, limit: String(limit) });
  if (mediaType) params.set("media_type", mediaType);
  for (const genre of genres) params.append("genre", genre);
  return getJson(`/api/trends?${params}`, options);
}

/** Fetch one title: its facts, enrichment, model-vs-LLM genres and current scores. */
export function fetchTitle(titleId, options) {
  return getJson(`/api/titles/${encodeURIComponent(titleId)}`, options);
}

/** Fetch a title's score history in one window since a Date: {title_id, window, points}. */
export function fetchHistory(titleId, { window = "day", since } = {}, options) {
  const params = new URLSearchParams({ window });
  if (since) params.set("since", since.toISOString());
  return getJson(`/api/titles/${encodeURIComponent(titleId)}/history?${params}`, options);
}

/**
 * Fetch the ranking of one window as it was at a Date: {window, at, count, items}.
 * The media type and genres are sent so the server can filter before the limit; callers
 * filter again (matchesView) in case a server ignores them.
 */
export function fetchTrendsAt(
  { time, window = "day", limit = 50, mediaType = "", genres = [] } = {},
  options,
) {
  const params = new URLSearchParams({ time: time.toISOString(), window, limit: String(limit) });
  if (mediaType) params.set("media_type", mediaType);
  for (const genre of genres) params.append("genre", genre);
  return getJson(`/api/trends/at?${params}`, options);
}
