// Wiring: controls → subscription, websocket messages → store → chart, legend and badges.

import { TrendsClient, TrendStore } from "./api.js";
import { bubbleChart, genreLegend } from "./chart.js";
import { createTooltip } from "./tooltip.js";

const d3 = globalThis.d3;
const WINDOWS = ["live", "day", "week"];
const MEDIA = ["all", "movie", "tv"];
const LIMIT = 50;

function fatal(message) {
  const box = document.getElementById("fatal");
  box.textContent = message;
  box.hidden = false;
}

function choose(value, allowed, fallback) {
  return allowed.includes(value) ? value : fallback;
}

function start() {
  const params = new URLSearchParams(location.search);
  const view = {
    window: choose(params.get("window"), WINDOWS, "day"),
    media: choose(params.get("media"), MEDIA, "all"),
  };

  const store = new TrendStore();
  const chartEl = document.getElementById("chart");
  const legendEl = document.getElementById("legend");
  const statusEl = document.getElementById("status");
  const countEl = document.getElementById("count");
  const updatedEl = document.getElementById("last-update");
  const emptyEl = document.getElementById("empty");

  const tooltip = createTooltip(document.getElementById("tooltip"));
  const chart = bubbleChart().tooltip(tooltip);
  const legend = genreLegend().onHover((genre) => chart.highlight(genre));
  const client = new TrendsClient({ subscription: subscriptionFor(view) });

  function subscriptionFor({ window, media }) {
    return { window, media_types: media === "all" ? [] : [media], genres: [], limit: LIMIT };
  }

  // --- rendering: at most once per animation frame, however many messages arrive ------
  let frame = 0;
  function scheduleRender() {
    if (!frame) frame = requestAnimationFrame(render);
  }

  function render() {
    frame = 0;
    const items = store.ranked();
    const width = Math.max(320, chartEl.clientWidth);
    const height = Math.max(320, chartEl.clientHeight);
    d3.select(chartEl).datum(items).call(chart.width(width).height(height));
    d3.select(legendEl).datum(items).call(legend);
    countEl.textContent = String(items.length);
    emptyEl.classList.toggle("hidden", items.length > 0);
    emptyEl.querySelector("p").textContent = store.updatedAt
      ? "Nothing trending in this view yet."
      : "Waiting for trends…";
    const shown = tooltip.currentId();
    if (shown && store.items.has(shown)) tooltip.refresh(store.items.get(shown));
    else if (shown) tooltip.hide();
    showUpdated();
  }

  function showUpdated() {
    if (!store.updatedAt) return;
    const seconds = Math.round((Date.now() - store.updatedAt) / 1000);
    const clock = store.updatedAt.toLocaleTimeString([], {
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    updatedEl.textContent = seconds < 2 ? `updated ${clock}` : `updated ${clock} · ${seconds}s ago`;
  }

  // --- connection ----------------------------------------------------------------------
  client.on("status", ({ state, delay }) => {
    const label =
      { connecting: "connecting", live: "live", reconnecting: "reconnecting", closed: "offline" }[state] ??
      state;
    statusEl.textContent = label;
    statusEl.className = `badge ${label}`;
    statusEl.title = state === "reconnecting" && delay ? `next attempt in ${Math.ceil(delay / 1000)} s` : "";
  });
  client.on("snapshot", (message) => {
    store.applySnapshot(message);
    scheduleRender();
  });
  client.on("delta", (message) => {
    store.applyDelta(message);
    scheduleRender();
  });

  // --- controls ------------------------------------------------------------------------
  function bindSegmented(id, key) {
    const group = document.getElementById(id);
    const buttons = [...group.querySelectorAll("button")];
    const mark = () =>
      buttons.forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.value === view[key])));
    group.addEventListener("click", (event) => {
      const button = event.target.closest("button");
      if (!button || button.dataset.value === view[key]) return;
      view[key] = button.dataset.value;
      mark();
      const url = new URL(location.href);
      url.searchParams.set("window", view.window);
      url.searchParams.set("media", view.media);
      history.replaceState(null, "", url);
      client.subscribe(subscriptionFor(view));
    });
    mark();
  }
  bindSegmented("window-select", "window");
  bindSegmented("media-select", "media");

  new ResizeObserver(scheduleRender).observe(chartEl);
  setInterval(showUpdated, 1000);
  // Come back at once when the network or the tab does, instead of waiting out a backoff.
  window.addEventListener("online", () => client.retryNow());
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") client.retryNow();
  });

  client.connect();
  scheduleRender();
}

if (!d3) {
  fatal("D3 did not load from /vendor/d3.min.js — run `make frontend` (npm ci in frontend/) and reload.");
} else {
  start();
}
