// What the page shows: window and filters (kept in the URL), the subscription they make,
// and the time the scrubber points at. Pure functions, so check.mjs tests them under node.

export const WINDOWS = ["live", "day", "week"];
export const MEDIA = ["all", "movie", "tv"];
export const LIMIT = 50;
/** How far back the time slider reaches, in minutes, and its step. */
export const HISTORY_MINUTES = 24 * 60;
export const SLIDER_STEP = 15;

const choose = (value, allowed, fallback) => (allowed.includes(value) ? value : fallback);

/** Return the view named by a query string: {window, media, genre}. */
export function viewFromSearch(search) {
  const params = new URLSearchParams(search);
  return {
    window: choose(params.get("window"), WINDOWS, "day"),
    media: choose(params.get("media"), MEDIA, "all"),
    genre: (params.get("genre") ?? "").trim().slice(0, 64),
  };
}

/** Return the query string for a view (defaults left out). */
export function searchFromView({ window, media, genre }) {
  const params = new URLSearchParams();
  if (window !== "day") params.set("window", window);
  if (media !== "all") params.set("media", media);
  if (genre) params.set("genre", genre);
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** Return the websocket subscribe fields for a view. */
export function subscriptionFor({ window, media, genre }) {
  return {
    window,
    genres: genre ? [genre] : [],
    media_types: media === "all" ? [] : [media],
    limit: LIMIT,
  };
}

/** Return whether an item passes a view's genre and media filters (as the hub decides). */
export function matchesView(item, { media, genre }) {
  if (media && media !== "all" && item.title?.media_type !== media) return false;
  if (!genre) return true;
  const wanted = genre.toLowerCase();
  return (item.genres ?? []).some((g) => g.toLowerCase() === wanted);
}

/** Return the instant a slider value (minutes relative to now, ≤ 0) points at. */
export function sliderTime(minutes, now = Date.now()) {
  return new Date(now + Math.min(0, minutes) * 60_000);
}
