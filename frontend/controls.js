// The page's controls, each bound to its element: segmented buttons (window, media type),
// the genre picker, the connection badge and "server down" banner, and the time slider.
// Option and message text is only ever set with textContent.

import { describeAgo } from "./explain.js";
import { sliderTime } from "./view.js";

/** Bind a group of buttons with data-value to view[key]; return {sync()}. */
export function bindSegmented(group, view, key, onChange) {
  const buttons = [...group.querySelectorAll("button")];
  const sync = () =>
    buttons.forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.value === view[key])));
  group.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button || button.dataset.value === view[key]) return;
    view[key] = button.dataset.value;
    sync();
    onChange();
  });
  return { sync };
}

/** Bind the genre <select> to view.genre; it offers every genre seen so far. */
export function bindGenreSelect(select, view, onChange) {
  const known = new Map(); // lower-case → as first seen
  const add = (genre) => {
    const key = genre.toLowerCase();
    if (known.has(key)) return false;
    known.set(key, genre);
    return true;
  };

  function sync() {
    if (view.genre) add(view.genre);
    const wanted = [...known.values()].sort((a, b) => a.localeCompare(b));
    const have = [...select.options].slice(1).map((o) => o.value);
    if (wanted.join("\n") !== have.join("\n")) {
      while (select.options.length > 1) select.remove(1);
      for (const genre of wanted) {
        const option = document.createElement("option");
        option.value = genre;
        option.textContent = genre;
        select.append(option);
      }
    }
    const current = view.genre ? known.get(view.genre.toLowerCase()) : "";
    select.value = current ?? "";
  }

  select.addEventListener("change", () => {
    view.genre = select.value;
    onChange();
  });
  sync();
  return {
    sync,
    /** Learn the genres of some items (a snapshot, a delta's upserts, a past ranking). */
    note(items) {
      let grew = false;
      for (const item of items) for (const genre of item.genres ?? []) grew = add(genre) || grew;
      if (grew) sync();
    },
  };
}

const STATE_WORDS = {
  connecting: "connecting",
  live: "live",
  reconnecting: "reconnecting",
  closed: "offline",
};

/** Show the websocket's state on the badge, and a banner while the server cannot be reached. */
export function bindConnection({ client, badge, banner, chartEl }) {
  const text = banner.querySelector(".banner-text");
  let retryAt = 0;
  let ticker = 0;
  let wasLive = false;

  function countdown() {
    const seconds = Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
    const lead = wasLive
      ? "Lost the connection to the Trending Now server."
      : "Cannot reach the Trending Now server.";
    text.textContent = `${lead} The bubbles are not live; ${
      seconds ? `retrying in ${seconds} s` : "retrying now"
    }…`;
  }

  client.on("status", ({ state, delay }) => {
    const label = STATE_WORDS[state] ?? state;
    badge.textContent = label;
    badge.className = `badge ${label}`;
    badge.title = state === "reconnecting" && delay ? `next attempt in ${Math.ceil(delay / 1000)} s` : "";
    chartEl.classList.toggle("stale", state !== "live");
    if (state === "live") {
      wasLive = true;
      banner.hidden = true;
      clearInterval(ticker);
      ticker = 0;
    } else if (state === "reconnecting") {
      if (delay) retryAt = Date.now() + delay;
      countdown();
      banner.hidden = false;
      if (!ticker) ticker = setInterval(countdown, 1000);
    } else if (state === "closed") {
      text.textContent = "Disconnected from the Trending Now server. Reload the page to reconnect.";
      banner.hidden = false;
    }
  });
  banner.querySelector("button").addEventListener("click", () => client.retryNow());

  return {
    /** Show a message from the server (a refused subscription) for a few seconds. */
    notice(message) {
      text.textContent = message;
      banner.hidden = false;
      setTimeout(() => {
        if (client.state === "live") banner.hidden = true;
      }, 6000);
    },
  };
}

/**
 * Bind the time slider (minutes back from now, 0 = live). Moving it away from 0 calls
 * onTime(date, signal) after a short pause (earlier calls are aborted); back to 0 calls onNow().
 */
export function bindTimeline({ slider, label, onNow, onTime, debounceMs = 180 }) {
  let timer = 0;
  let controller = null;

  function describe() {
    const minutes = Number(slider.value);
    if (minutes === 0) return "now (live)";
    const at = sliderTime(minutes).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    return `${describeAgo(minutes)} (${at})`;
  }

  function update() {
    const words = describe();
    label.textContent = words;
    slider.setAttribute("aria-valuetext", words);
    slider.closest(".timebar")?.classList.toggle("past", Number(slider.value) !== 0);
  }

  function fire() {
    clearTimeout(timer);
    controller?.abort();
    controller = null;
    const minutes = Number(slider.value);
    if (minutes === 0) {
      onNow();
      return;
    }
    controller = new AbortController();
    onTime(sliderTime(minutes), controller.signal);
  }

  slider.addEventListener("input", () => {
    update();
    clearTimeout(timer);
    timer = setTimeout(fire, Number(slider.value) === 0 ? 0 : debounceMs);
  });
  update();
  return {
    /** Put the slider back to now (without calling onNow). */
    reset() {
      clearTimeout(timer);
      controller?.abort();
      controller = null;
      slider.value = "0";
      update();
    },
    /** Fetch the past ranking again (the window changed). */
    reload() {
      if (Number(slider.value) !== 0) fire();
    },
  };
}
