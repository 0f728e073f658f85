// Checks of the frontend that need no browser: `npm run check` (or `node --test check.mjs`).
// The DOM parts are covered by tests/e2e/test_bubbles_browser.py and test_page_*.py in
// headless Chromium.

import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { test } from "node:test";

import { ApiError, backoffDelay, fetchHistory, fetchTrendsAt, getJson, TrendsClient, TrendStore, trendsUrl } from "./api.js";
import { describeAgo, genreComparison, joinWords, sourceName, whyTrending } from "./explain.js";
import { nearestInDirection, sparklineGeometry } from "./geometry.js";
import { bubbleLabel, primaryGenre, rankChange, wrapLines } from "./labels.js";
import { matchesView, searchFromView, sliderTime, subscriptionFor, viewFromSearch } from "./view.js";

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
  client.resubscribe(); // "go live" after a pause: the same subscription, a fresh snapshot
  assert.equal(first.sent.length, 3);
  assert.deepEqual(first.sent.at(-1), first.sent.at(-2));
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

const components = (sources, rest = {}) => ({ sources, agreement: 0, velocity: 0, hype: 0, decay: 1, ...rest });

test("why-trending names the largest score components in words", () => {
  assert.equal(
    whyTrending({
      rank: 1,
      previous_rank: 4,
      components: components({ imdb_moviemeter: 0.9, tmdb_trending_day: 0.5 }, { velocity: 0.6, agreement: 0.1, hype: 0.02 }),
    }),
    "It charts on 2 sources (strongest: IMDb moviemeter and TMDb trending day), it is climbing fast " +
      "and it is up 3 places.",
  );
  assert.equal(
    whyTrending({ rank: 5, previous_rank: null, components: components({ tmdb_trending_day: 1 }, { hype: 0.4 }) }),
    "It ranks high on TMDb trending day, the buzz around it is high and it is a new entry.",
  );
  // Agreement needs two sources; parts under a tenth are left out; a slip and staleness are said.
  assert.equal(
    whyTrending({ rank: 6, previous_rank: 5, components: components({ reddit_hot: 2 }, { agreement: 5, velocity: 0.05, decay: 0.3 }) }),
    "It ranks high on Reddit hot, it slipped 1 place and it has not been on the charts lately.",
  );
  assert.equal(whyTrending({ rank: 2, previous_rank: 2, components: {} }), "Not enough signal yet to say why.");
  assert.equal(
    whyTrending({ rank: 3, previous_rank: 3, components: components({ imdb_top: 1, tmdb_popular: 1 }, { agreement: 1.5 }) }),
    "It charts on 2 sources (strongest: IMDb top and TMDb popular) and 2 sources agree on it.",
  );
  assert.equal(
    whyTrending({ rank: 1, previous_rank: 1, components: components({ a: 1, b: 0.9, c: 0.8, d: 0.7 }) }),
    "It charts on 4 sources (strongest: A and B, then 2 more).",
  );
});

test("source names and lists read as words", () => {
  assert.equal(sourceName("tmdb_trending_day"), "TMDb trending day");
  assert.equal(sourceName("imdb-moviemeter"), "IMDb moviemeter");
  assert.equal(sourceName("box_office"), "Box office");
  assert.equal(joinWords(["a"]), "a");
  assert.equal(joinWords(["a", "b", "c"]), "a, b and c");
});

test("genre comparison lines up the model's genres against the LLM's", () => {
  const { rows, agree, total } = genreComparison({
    llm: ["Drama", "Thriller"],
    model: ["drama", "Crime"],
    model_probabilities: { Drama: 0.91, Crime: 0.55, Comedy: 0.04, Horror: 0.12 },
    source: ["Drama"],
    model_version: "xgb-3",
  });
  assert.deepEqual(
    rows.map((r) => [r.genre, r.llm, r.model, r.source, r.probability]),
    [
      ["Drama", true, true, true, 0.91],
      ["Crime", false, true, false, 0.55],
      ["Horror", false, false, false, 0.12],
      ["Thriller", true, false, false, null],
    ],
  );
  assert.equal(agree, 1);
  assert.equal(total, 3);
  assert.deepEqual(genreComparison(null), { rows: [], agree: 0, total: 0 });
});

test("the slider's time reads as minutes or hours ago", () => {
  assert.equal(describeAgo(0), "now");
  assert.equal(describeAgo(-45), "45 min ago");
  assert.equal(describeAgo(-360), "6 h ago");
  assert.equal(describeAgo(-150), "2 h 30 min ago");
  assert.equal(sliderTime(-90, Date.parse("2024-06-01T12:00:00Z")).toISOString(), "2024-06-01T10:30:00.000Z");
  assert.equal(sliderTime(30, 0).getTime(), 0, "never in the future");
});

test("sparkline scales map time left to right and score 0-100 bottom to top", () => {
  const points = [
    { at: "2024-06-01T12:00:00Z", score: 100, rank: 1 },
    { at: "2024-06-01T00:00:00Z", score: 0, rank: 9 },
    { at: "2024-06-01T06:00:00Z", score: 50, rank: 4 },
    { at: "not a time", score: 10 },
  ];
  const g = sparklineGeometry(points, { width: 104, height: 54, pad: 2 });
  assert.equal(g.count, 3);
  assert.equal(g.path, "M2.0,52.0L52.0,27.0L102.0,2.0");
  assert.equal(g.area, "M2.0,52.0L52.0,27.0L102.0,2.0V52.0H2.0Z");
  assert.deepEqual([g.min, g.max, g.first.score, g.last.score], [0, 100, 0, 100]);
  assert.deepEqual([g.last.x, g.last.y], [102, 2]);
  // A fixed time domain (the window asked for) places the points inside it.
  const start = Date.parse("2024-05-31T12:00:00Z");
  const end = Date.parse("2024-06-01T12:00:00Z");
  const within = sparklineGeometry(points, { width: 104, height: 54, pad: 2, start, end });
  assert.equal(within.x(Date.parse("2024-06-01T00:00:00Z")), 52);
  // One point draws a flat line; none draws nothing; scores are clamped.
  assert.equal(sparklineGeometry([{ at: "2024-06-01T00:00:00Z", score: 150 }], { width: 10, height: 10, pad: 0 }).path, "M0.0,0.0L10.0,0.0");
  assert.equal(sparklineGeometry([]), null);
});

test("arrow keys move to the nearest bubble that way", () => {
  const at = (id, x, y) => ({ id, x, y });
  const bubbles = [at("c", 0, 0), at("right", 10, 1), at("far-right", 30, 0), at("up", 1, -12), at("diag", 8, 9)];
  const from = bubbles[0];
  assert.equal(nearestInDirection(from, bubbles, "ArrowRight"), "right");
  assert.equal(nearestInDirection(from, bubbles, "ArrowUp"), "up");
  assert.equal(nearestInDirection(from, bubbles, "ArrowDown"), "diag");
  assert.equal(nearestInDirection(from, bubbles, "ArrowLeft"), null);
  assert.equal(nearestInDirection(from, bubbles, "Enter"), null);
});

test("the view lives in the URL and makes the subscription", () => {
  const view = viewFromSearch("?window=week&media=tv&genre=Horror");
  assert.deepEqual(view, { window: "week", media: "tv", genre: "Horror" });
  assert.deepEqual(viewFromSearch("?window=year&media=book"), { window: "day", media: "all", genre: "" });
  assert.equal(searchFromView(view), "?window=week&media=tv&genre=Horror");
  assert.equal(searchFromView({ window: "day", media: "all", genre: "" }), "");
  assert.deepEqual(subscriptionFor(view), { window: "week", genres: ["Horror"], media_types: ["tv"], limit: 50 });
  const item = { title: { media_type: "tv" }, genres: ["Drama", "horror"] };
  assert.ok(matchesView(item, view));
  assert.ok(!matchesView(item, { media: "movie", genre: "" }));
  assert.ok(!matchesView(item, { media: "all", genre: "Comedy" }));
});

test("bubbles are coloured by the filtered genre and labelled for screen readers", () => {
  const item = {
    title: { name: "Alien: Romulus", year: 2024, media_type: "movie" },
    genres: ["Science Fiction", "Horror"],
    rank: 2,
    previous_rank: 5,
    score: 66.4,
  };
  assert.equal(primaryGenre(item), "Science Fiction");
  assert.equal(primaryGenre(item, "horror"), "Horror");
  assert.equal(primaryGenre(item, "Comedy"), "Science Fiction");
  assert.equal(primaryGenre({ genres: [] }), "Other");
  assert.equal(bubbleLabel(item), "Alien: Romulus (2024, movie): rank 2, up 3, score 66. Science Fiction, Horror");
});

test("REST helpers build the documented URLs and say what failed", async () => {
  const asked = [];
  const ok = async (url) => {
    asked.push(url);
    return { ok: true, status: 200, json: async () => ({ url }) };
  };
  const since = new Date("2024-06-01T00:00:00Z");
  await fetchHistory("tmdb:movie:1", { window: "week", since }, { fetchImpl: ok });
  await fetchTrendsAt({ time: since, window: "day", limit: 20, mediaType: "tv", genres: ["Drama"] }, { fetchImpl: ok });
  assert.deepEqual(asked, [
    "/api/titles/tmdb%3Amovie%3A1/history?window=week&since=2024-06-01T00%3A00%3A00.000Z",
    "/api/trends/at?time=2024-06-01T00%3A00%3A00.000Z&window=day&limit=20&media_type=tv&genre=Drama",
  ]);
  const missing = async () => ({ ok: false, status: 404 });
  await assert.rejects(getJson("/api/titles/x", { fetchImpl: missing }), (e) => e instanceof ApiError && e.status === 404 && /not found/.test(e.message));
  const down = async () => {
    throw new TypeError("Failed to fetch");
  };
  await assert.rejects(getJson("/api/titles/x?y=1", { fetchImpl: down }), /cannot be reached \(GET \/api\/titles\/x\)/);
});
