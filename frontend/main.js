// Wiring: controls → subscription, websocket messages → store → chart, legend and badges;
// pause and the time slider choose which ranking is shown; a click opens the detail panel.

import { fetchHistory, fetchTitle, fetchTrendsAt, TrendsClient, TrendStore } from "./api.js";
import { bubbleChart } from "./chart.js";
import { bindConnection, bindGenreSelect, bindSegmented, bindTimeline } from "./controls.js";
import { createDetailPanel } from "./detail.js";
import { genreLegend } from "./legend.js";
import { createTooltip } from "./tooltip.js";
import { LIMIT, matchesView, searchFromView, subscriptionFor, viewFromSearch } from "./view.js";

const d3 = globalThis.d3;

function fatal(message) {
  const box = document.getElementById("fatal");
  box.textContent = message;
  box.hidden = false;
}

const clock = (date) =>
  date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
const dayClock = (date) => date.toLocaleString([], { weekday: "short", hour: "2-digit", minute: "2-digit" });

function start() {
  const view = viewFromSearch(location.search);
  // What is shown: the live ranking, the live ranking frozen (paused), or a past one.
  const mode = { paused: false, past: null, pastError: null };
  const live = new TrendStore();
  let past = new TrendStore();
  let refreshOnce = false; // paused, but the filters changed: take the next snapshot

  const el = (id) => document.getElementById(id);
  const chartEl = el("chart");
  const emptyEl = el("empty");
  const reduceMotion = matchMedia("(prefers-reduced-motion: reduce)");

  const tooltip = createTooltip(el("tooltip"));
  const chart = bubbleChart().tooltip(tooltip).reducedMotion(reduceMotion.matches);
  const legend = genreLegend().onHover((genre) => chart.highlight(genre));
  const client = new TrendsClient({ subscription: subscriptionFor(view) });
  const detail = createDetailPanel(el("detail"), {
    fetchTitle,
    fetchHistory,
    onClose(id) {
      chart.selected(null);
      chart.focus(id);
    },
  });
  chart.onSelect((item, element) => {
    tooltip.hide();
    detail.open(item, element);
  });
  reduceMotion.addEventListener("change", (event) => chart.reducedMotion(event.matches));
  // Escape dismisses the hover card too (the detail panel handles its own Escape).
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !detail.currentId()) tooltip.hide();
  });

  const shown = () => (mode.past ? past : live);

  // --- rendering: at most once per animation frame, however many messages arrive ------
  let frame = 0;
  function scheduleRender() {
    if (!frame) frame = requestAnimationFrame(render);
  }

  function render() {
    frame = 0;
    const store = shown();
    const items = store.ranked();
    const width = Math.max(300, chartEl.clientWidth);
    const height = Math.max(300, chartEl.clientHeight);
    chart.colourGenre(view.genre);
    legend.active(view.genre);
    tooltip.colourGenre(view.genre);
    d3.select(chartEl).datum(items).call(chart.width(width).height(height));
    d3.select(el("legend")).datum(items).call(legend);
    el("count").textContent = String(items.length);
    emptyEl.classList.toggle("hidden", items.length > 0);
    emptyEl.querySelector("p").textContent = mode.pastError
      ? `History unavailable: ${mode.pastError}`
      : store.updatedAt
        ? "Nothing trending in this view yet."
        : "Waiting for trends…";
    const hovered = tooltip.currentId();
    if (hovered && store.items.has(hovered)) tooltip.refresh(store.items.get(hovered));
    else if (hovered) tooltip.hide();
    const open = detail.currentId();
    if (open && store.items.has(open)) detail.refresh(store.items.get(open));
    showUpdated();
  }

  function showUpdated() {
    const updated = el("last-update");
    const modeEl = el("view-mode");
    if (mode.past) {
      modeEl.textContent = "history";
      updated.textContent = `as of ${dayClock(mode.past)}`;
    } else if (mode.paused) {
      modeEl.textContent = "paused";
      updated.textContent = live.updatedAt ? `paused at ${clock(live.updatedAt)}` : "paused";
    } else if (live.updatedAt) {
      const seconds = Math.round((Date.now() - live.updatedAt) / 1000);
      const at = `updated ${clock(live.updatedAt)}`;
      updated.textContent = seconds < 2 ? at : `${at} · ${seconds}s ago`;
    }
    showMode();
  }

  function showMode() {
    const modeEl = el("view-mode");
    modeEl.hidden = !mode.past && !mode.paused;
    const pause = el("pause-toggle");
    const frozen = Boolean(mode.past || mode.paused);
    // The label says what a press does (no aria-pressed as well: that would say it twice).
    pause.dataset.frozen = String(frozen);
    pause.textContent = frozen ? "Go live" : "Pause";
    pause.title = frozen ? "Show the live ranking again" : "Freeze the view";
    chartEl.classList.toggle("frozen", frozen);
  }

  // --- the live stream -----------------------------------------------------------------
  const genreSelect = bindGenreSelect(el("genre-select"), view, onViewChange);
  const connection = bindConnection({ client, badge: el("status"), banner: el("banner"), chartEl });
  client.on("snapshot", (message) => {
    genreSelect.note(message.items);
    if (mode.past || (mode.paused && !refreshOnce)) return;
    refreshOnce = false;
    live.applySnapshot(message);
    scheduleRender();
  });
  client.on("delta", (message) => {
    genreSelect.note(message.upserts ?? []);
    if (mode.past || mode.paused) return;
    live.applyDelta(message);
    scheduleRender();
  });
  client.on("error", (message) => connection.notice(`The server refused a request: ${message.message}`));

  // --- controls ------------------------------------------------------------------------
  function onViewChange() {
    history.replaceState(null, "", `${location.pathname}${searchFromView(view)}`);
    genreSelect.sync();
    if (mode.paused) refreshOnce = true;
    client.subscribe(subscriptionFor(view));
    if (mode.past) timeline.reload();
    scheduleRender();
  }
  const segments = [
    bindSegmented(el("window-select"), view, "window", onViewChange),
    bindSegmented(el("media-select"), view, "media", onViewChange),
  ];
  legend.onPick((genre) => {
    view.genre = view.genre && view.genre.toLowerCase() === genre.toLowerCase() ? "" : genre;
    onViewChange();
  });

  function goLive() {
    const wasFrozen = mode.paused || mode.past;
    mode.paused = false;
    mode.past = null;
    mode.pastError = null;
    timeline.reset();
    showMode();
    // A fresh snapshot replaces whatever the frozen view was showing.
    if (wasFrozen) client.resubscribe();
    scheduleRender();
  }

  const timeline = bindTimeline({
    slider: el("time-slider"),
    label: el("time-label"),
    onNow: goLive,
    async onTime(time, signal) {
      mode.past = time;
      mode.pastError = null;
      showUpdated();
      try {
        const { media_types: media, genres } = subscriptionFor(view);
        const request = { time, window: view.window, limit: LIMIT, mediaType: media[0] ?? "", genres };
        const page = await fetchTrendsAt(request, { signal });
        genreSelect.note(page.items);
        const items = page.items.filter((item) => matchesView(item, view));
        past = new TrendStore().applySnapshot({ seq: 0, window: page.window, items });
      } catch (error) {
        if (error.name === "AbortError") return;
        past = new TrendStore();
        mode.pastError = error.message;
      }
      if (mode.past === time) scheduleRender();
    },
  });

  el("pause-toggle").addEventListener("click", () => {
    if (mode.paused || mode.past) goLive();
    else {
      mode.paused = true;
      showUpdated();
    }
  });

  segments.forEach((s) => s.sync());
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
