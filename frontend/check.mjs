// Checks of the frontend that need no browser: `npm run check` (or `node --test check.mjs`).
// The DOM parts are covered by tests/e2e/test_bubbles_browser.py in headless Chromium.

import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { test } from "node:test";

import { backoffDelay, TrendsClient, TrendStore, trendsUrl } from "./api.js";
import { rankChange, wrapLines } from "./chart.js";

const here = new URL(".", import.meta.url);
const readJson = (path) => JSON.parse(readFileSync(new URL(path, here), "utf8"));

test("d3 is pinned to an exact 7.x version, locked and installed", () => {
  const wanted = readJson("package.json").dependencies.d3;
  assert.match(wanted, /^7\.\d+\.\d+$/, "pin d3 exactly: npm install --save-exact d3@7");
  assert.equal(readJson("package-lock.json").packages["node_modules/d3"].version, wanted);
  assert.ok(existsSync(new URL("node_modules/d3/dist/d3.min.js", here)), "run `npm ci` in frontend/");
  assert.equal(readJson("node_modules/d3/package.json").version, wanted);
});

test("the websocket URL follows the page's scheme and host", () => {
  assert.equal(trendsUrl({ protocol: "http:", host: "localhost:8000" }), "ws://localhost:8000/ws/trends");
  assert.equal(trendsUrl({ protocol: "https:", host: "trends.example" }), "wss://trends.example/ws/trends");
});

test("backoff grows exponentially, is jittered and capped", () => {
  const low = (n) => backoffDelay(n, { random: () => 0 });
  const high = (n) => backoffDelay(n, { random: () => 0.999999 });
  assert.equal(low(0), 250);
  assert.equal(low(1), 500);
  assert.ok(high(1) > 999 && high(1) <= 1000);
  assert.equal(low(30), 7500);
  assert.ok(high(30) <= 15000);
});

test("the store applies snapshots and deltas", () => {
  const store = new TrendStore();
  const item = (id, rank, score) => ({ title_id: id, rank, score });
  store.applySnapshot({ seq: 1, window: "day", items: [item("a", 2, 50), item("b", 1, 60)] });
  assert.deepEqual(
    store.ranked().map((i) => i.title_id),
    ["b", "a"],
  );
  store.applyDelta({ seq: 2, upserts: [item("c", 1, 90), item("b", 2, 55)], removals: ["a"] });
  assert.deepEqual(
    store.ranked().map((i) => i.title_id),
    ["c", "b"],
  );
  assert.equal(store.items.get("b").score, 55);
  assert.equal(store.seq, 2);
});

class FakeSocket {
  static opened = [];
  constructor(url) {
    this.url = url;
    this.sent = [];
    FakeSocket.opened.push(this);
  }
  send(text) {
    this.sent.push(JSON.parse(text));
  }
  close() {
    this.onclose?.({});
  }
  open() {
    this.onopen?.({});
  }
  receive(message) {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
}

test("the client subscribes, ignores stale deltas, and reconnects then re-subscribes", async () => {
  FakeSocket.opened = [];
  const client = new TrendsClient({
    url: "ws://test/ws/trends",
    subscription: { window: "week" },
    WebSocketImpl: FakeSocket,
    backoff: () => 0,
  });
  const seen = [];
  const states = [];
  client.on("snapshot", (m) => seen.push(`snapshot ${m.seq}`));
  client.on("delta", (m) => seen.push(`delta ${m.seq}`));
  client.on("status", ({ state }) => states.push(state));

  client.connect();
  const first = FakeSocket.opened[0];
  first.open();
  assert.deepEqual(first.sent, [
    { type: "subscribe", window: "week", genres: [], media_types: [], limit: 50 },
  ]);
  first.receive({ type: "delta", seq: 1, upserts: [], removals: [] }); // before the snapshot
  first.receive({ type: "snapshot", seq: 2, window: "week", items: [] });
  first.receive({ type: "delta", seq: 3, upserts: [], removals: [] });
  first.receive({ type: "delta", seq: 3, upserts: [], removals: [] }); // duplicate
  assert.deepEqual(seen, ["snapshot 2", "delta 3"]);

  client.subscribe({ media_types: ["tv"] });
  assert.deepEqual(first.sent.at(-1).media_types, ["tv"]);
  first.receive({ type: "delta", seq: 4, upserts: [], removals: [] }); // for the old filters
  assert.deepEqual(seen, ["snapshot 2", "delta 3"]);

  first.close(); // the server went away
  await new Promise((resolve) => setTimeout(resolve, 5));
  const second = FakeSocket.opened[1];
  assert.ok(second, "reconnected");
  second.open();
  assert.deepEqual(second.sent.at(-1), {
    type: "subscribe",
    window: "week",
    genres: [],
    media_types: ["tv"],
    limit: 50,
  });
  assert.deepEqual(states, ["connecting", "live", "reconnecting", "reconnecting", "live"]);
  client.close();
  assert.equal(client.state, "closed");
});

test("labels wrap to at most two lines and say how the rank moved", () => {
  assert.deepEqual(wrapLines("The Lord of the Rings", 10), ["The Lord", "of the…"]);
  assert.deepEqual(wrapLines("Dune", 10), ["Dune"]);
  assert.deepEqual(wrapLines("Supercalifragilistic", 8, 1), ["Superca…"]);
  assert.deepEqual(rankChange({ rank: 2, previous_rank: 5 }), { text: "▲ 3", direction: "up" });
  assert.deepEqual(rankChange({ rank: 4, previous_rank: 1 }), { text: "▼ 3", direction: "down" });
  assert.equal(rankChange({ rank: 4, previous_rank: null }).direction, "new");
  assert.equal(rankChange({ rank: 4, previous_rank: 4 }).direction, "same");
});
