// What a bubble says and how it looks: genre colours, label wrapping, rank changes and the
// screen-reader label. Only isDark needs d3 (global), so check.mjs tests the rest under node.

const MEDIA_WORDS = { movie: "movie", tv: "TV series" };

// Stable colours for the genres TMDb uses (movie and TV names), so a genre keeps its
// colour across reloads; anything else is hashed into a spare palette.
const GENRE_COLOURS = {
  action: "#ff6b6b",
  "action & adventure": "#ff6b6b",
  adventure: "#ff922b",
  animation: "#ffd43b",
  comedy: "#a9e34b",
  crime: "#e599f7",
  documentary: "#20c997",
  drama: "#4dabf7",
  family: "#ffc078",
  kids: "#ffc078",
  fantasy: "#b197fc",
  history: "#d9a066",
  horror: "#c2255c",
  music: "#faa2c1",
  mystery: "#7048e8",
  romance: "#f06595",
  "science fiction": "#22b8cf",
  "sci-fi & fantasy": "#22b8cf",
  thriller: "#4263eb",
  "tv movie": "#99e9f2",
  war: "#74b816",
  "war & politics": "#74b816",
  western: "#e8590c",
  reality: "#ffa8a8",
  news: "#adb5bd",
  soap: "#fcc2d7",
  talk: "#63e6be",
};
const SPARE_COLOURS = ["#66d9e8", "#ffe066", "#c0eb75", "#eebefa", "#ffc9c9", "#91a7ff"];
export const NO_GENRE = "Other";
const NO_GENRE_COLOUR = "#868e96";

/** Return the genre a title is coloured by: `preferred` if it has it, else its first genre. */
export function primaryGenre(item, preferred = null) {
  if (preferred) {
    const wanted = preferred.toLowerCase();
    const match = item.genres?.find((g) => g.toLowerCase() === wanted);
    if (match) return match;
  }
  return item.genres?.[0] ?? NO_GENRE;
}

/** Return the colour of a genre. */
export function genreColour(genre) {
  if (!genre || genre === NO_GENRE) return NO_GENRE_COLOUR;
  const known = GENRE_COLOURS[genre.toLowerCase()];
  if (known) return known;
  let hash = 0;
  for (const ch of genre) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  return SPARE_COLOURS[hash % SPARE_COLOURS.length];
}

/** Return whether labels on this colour should be light (the colour is dark). */
export function isDark(colour) {
  const { r, g, b } = globalThis.d3.rgb(colour);
  // Relative luminance (sRGB, approximated): below ~0.4 dark text loses contrast.
  return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255 < 0.45;
}

/** Split a name into at most `maxLines` lines of about `maxChars`, with an ellipsis if cut. */
export function wrapLines(name, maxChars, maxLines = 2) {
  const words = name.split(/\s+/).filter(Boolean);
  const lines = [];
  let line = "";
  for (const word of words) {
    const candidate = line ? `${line} ${word}` : word;
    if (candidate.length <= maxChars || !line) {
      line = candidate;
    } else {
      lines.push(line);
      line = word;
    }
  }
  if (line) lines.push(line);
  const kept = lines
    .slice(0, maxLines)
    .map((l) => (l.length > maxChars ? `${l.slice(0, Math.max(1, maxChars - 1))}…` : l));
  if (lines.length > maxLines) {
    const last = kept[maxLines - 1];
    kept[maxLines - 1] = `${last.slice(0, Math.max(1, Math.min(last.length, maxChars - 1)))}…`;
  }
  return kept;
}

/** Return "▲ 3" / "▼ 2" / "new" / "" for a rank change (lower rank number = better). */
export function rankChange(item) {
  if (item.previous_rank == null) return { text: "new", direction: "new" };
  const gained = item.previous_rank - item.rank;
  if (gained > 0) return { text: `▲ ${gained}`, direction: "up" };
  if (gained < 0) return { text: `▼ ${-gained}`, direction: "down" };
  return { text: "", direction: "same" };
}

/** Return what a screen reader says for a bubble. */
export function bubbleLabel(item) {
  const facts = [item.title.year, MEDIA_WORDS[item.title.media_type] ?? item.title.media_type]
    .filter(Boolean)
    .join(", ");
  const change = rankChange(item);
  const moved =
    change.direction === "up"
      ? `, up ${item.previous_rank - item.rank}`
      : change.direction === "down"
        ? `, down ${item.rank - item.previous_rank}`
        : change.direction === "new"
          ? ", new entry"
          : "";
  const genres = (item.genres ?? []).slice(0, 3).join(", ");
  return (
    `${item.title.name}${facts ? ` (${facts})` : ""}: rank ${item.rank}${moved}, ` +
    `score ${Math.round(item.score)}${genres ? `. ${genres}` : ""}`
  );
}
