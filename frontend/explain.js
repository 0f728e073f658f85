// Words for numbers: why a title trends, source names, genre agreement, "6 h ago".
// Pure functions (no DOM, no d3), so check.mjs tests them under node.

const SOURCE_WORDS = {
  tmdb: "TMDb",
  imdb: "IMDb",
  tv: "TV",
  youtube: "YouTube",
  reddit: "Reddit",
  wikipedia: "Wikipedia",
  google: "Google",
  rt: "Rotten Tomatoes",
  rottentomatoes: "Rotten Tomatoes",
  justwatch: "JustWatch",
  trakt: "Trakt",
  letterboxd: "Letterboxd",
};

/** Return a source's name for people: "tmdb_trending_day" → "TMDb trending day". */
export function sourceName(name) {
  const words = String(name)
    .split(/[_\-\s]+/)
    .filter(Boolean)
    .map((word) => SOURCE_WORDS[word.toLowerCase()] ?? word.toLowerCase());
  if (!words.length) return String(name);
  const first = words[0];
  words[0] = first[0].toUpperCase() + first.slice(1);
  return words.join(" ");
}

/** Join phrases as a list in English: "a", "a and b", "a, b and c". */
export function joinWords(words) {
  if (words.length <= 1) return words.join("");
  return `${words.slice(0, -1).join(", ")} and ${words.at(-1)}`;
}

const PHRASES = {
  sources(ranked) {
    const names = ranked.slice(0, 2).map(([name]) => sourceName(name));
    if (ranked.length === 1) return `it ranks high on ${names[0]}`;
    const others = ranked.length - names.length;
    const tail = others > 0 ? `, then ${others} more` : "";
    return `it charts on ${ranked.length} sources (strongest: ${joinWords(names)}${tail})`;
  },
  velocity: () => "it is climbing fast",
  agreement: (ranked) => `${ranked.length} sources agree on it`,
  hype: () => "the buzz around it is high",
};

/**
 * Return a sentence saying why a title trends, from its largest score components.
 *
 * The score is sources + agreement + velocity + hype (see docs/scorer.md); the parts that
 * carry at least a tenth of it are named, biggest first, then how its rank moved.
 */
export function whyTrending(item) {
  const c = item?.components ?? {};
  const ranked = Object.entries(c.sources ?? {})
    .filter(([, points]) => points > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const parts = [
    ["sources", ranked.reduce((sum, [, points]) => sum + points, 0)],
    ["velocity", c.velocity ?? 0],
    ["agreement", ranked.length > 1 ? (c.agreement ?? 0) : 0],
    ["hype", c.hype ?? 0],
  ].filter(([, value]) => value > 0);
  const total = parts.reduce((sum, [, value]) => sum + value, 0);
  parts.sort((a, b) => b[1] - a[1]);
  const phrases = parts
    .filter(([, value], i) => i === 0 || value >= 0.1 * total)
    .slice(0, 3)
    .map(([key]) => PHRASES[key](ranked));

  if (item?.previous_rank == null) {
    if (item?.rank != null) phrases.push("it is a new entry");
  } else if (item.previous_rank > item.rank) {
    const gained = item.previous_rank - item.rank;
    phrases.push(`it is up ${gained} ${gained === 1 ? "place" : "places"}`);
  } else if (item.previous_rank < item.rank) {
    const lost = item.rank - item.previous_rank;
    phrases.push(`it slipped ${lost} ${lost === 1 ? "place" : "places"}`);
  }
  if (c.decay != null && c.decay < 0.5) phrases.push("it has not been on the charts lately");
  if (!phrases.length) return "Not enough signal yet to say why.";
  const sentence = joinWords(phrases);
  return `${sentence[0].toUpperCase()}${sentence.slice(1)}.`;
}

/**
 * Compare the classifier's genres with the LLM's (body of GET /api/titles/{id}: "genres").
 *
 * Returns {rows: [{genre, llm, model, source, probability}], agree, total}: one row per
 * genre either named (or the model gave at least 10 %), most probable first.
 */
export function genreComparison(genres) {
  const llm = genres?.llm ?? [];
  const model = genres?.model ?? [];
  const source = genres?.source ?? [];
  const probabilities = genres?.model_probabilities ?? {};
  const key = (g) => String(g).toLowerCase();
  const rows = new Map();
  const row = (genre) => {
    if (!rows.has(key(genre))) {
      rows.set(key(genre), { genre, llm: false, model: false, source: false, probability: null });
    }
    return rows.get(key(genre));
  };
  for (const g of llm) row(g).llm = true;
  for (const g of model) row(g).model = true;
  for (const g of source) row(g).source = true;
  for (const [g, p] of Object.entries(probabilities)) {
    if (p >= 0.1 || rows.has(key(g))) row(g).probability = p;
  }
  const sorted = [...rows.values()].sort(
    (a, b) =>
      (b.probability ?? -1) - (a.probability ?? -1) ||
      Number(b.llm) - Number(a.llm) ||
      a.genre.localeCompare(b.genre),
  );
  const named = sorted.filter((r) => r.llm || r.model);
  return { rows: sorted, agree: named.filter((r) => r.llm && r.model).length, total: named.length };
}

/** Return "now", "45 min ago", "6 h ago" or "2 h 30 min ago" for a number of minutes back. */
export function describeAgo(minutes) {
  const m = Math.round(Math.abs(minutes));
  if (m === 0) return "now";
  const hours = Math.floor(m / 60);
  const rest = m % 60;
  if (!hours) return `${rest} min ago`;
  return rest ? `${hours} h ${rest} min ago` : `${hours} h ago`;
}
