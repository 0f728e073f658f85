// The hover card of a bubble: what the title is, its score and rank, the LLM summary and
// vibe tags, and why it is trending. Built with d3 and .text() only: server strings never
// become markup.

import { sourceName, whyTrending } from "./explain.js";
import { genreColour, primaryGenre, rankChange } from "./labels.js";

const d3 = globalThis.d3;
const MEDIA = { movie: "Movie", tv: "TV series" };
const GAP = 18;

function fill(card, item, colourGenre) {
  card.selectAll("*").remove();
  card.style("--accent", genreColour(primaryGenre(item, colourGenre)));

  const head = card.append("div").attr("class", "tt-head");
  const poster = item.title.poster_url;
  if (poster && /^https?:\/\//.test(poster)) {
    head
      .append("img")
      .attr("class", "tt-poster")
      .attr("alt", "")
      .attr("src", poster)
      .on("error", (event) => event.currentTarget.remove());
  }
  const heading = head.append("div").attr("class", "tt-heading");
  heading.append("div").attr("class", "tt-title").text(item.title.name);
  const facts = [
    item.title.year,
    MEDIA[item.title.media_type] ?? item.title.media_type,
    item.genres.slice(0, 3).join(", "),
  ];
  heading.append("div").attr("class", "tt-sub").text(facts.filter(Boolean).join(" · "));

  const stats = card.append("div").attr("class", "tt-stats");
  const score = stats.append("div").attr("class", "tt-stat");
  score.append("span").attr("class", "tt-big").text(Math.round(item.score));
  score.append("span").attr("class", "tt-caption").text("trend score");
  const rank = stats.append("div").attr("class", "tt-stat");
  const rankLine = rank.append("span").attr("class", "tt-big").text(`#${item.rank}`);
  const change = rankChange(item);
  if (change.direction !== "same") {
    rankLine.append("span").attr("class", `tt-change ${change.direction}`).text(change.text);
  }
  rank
    .append("span")
    .attr("class", "tt-caption")
    .text(item.previous_rank == null ? "rank · new entry" : `rank · was #${item.previous_rank}`);

  if (item.summary) card.append("p").attr("class", "tt-summary").text(item.summary);
  if (item.vibe_tags?.length) {
    card
      .append("div")
      .attr("class", "tt-tags")
      .selectAll("span")
      .data(item.vibe_tags)
      .join("span")
      .attr("class", "tt-tag")
      .text((d) => d);
  }
  const why = card.append("div").attr("class", "tt-why");
  why.append("div").attr("class", "tt-why-label").text("Why it's trending");
  why.append("p").attr("class", "tt-why-words").text(whyTrending(item));
  if (item.explanation) why.append("p").attr("class", "tt-why-detail").text(item.explanation);
  const sources = Object.entries(item.components?.sources ?? {})
    .sort((a, b) => b[1] - a[1])
    .slice(0, 4);
  if (sources.length) {
    const top = sources[0][1] || 1;
    const rows = card
      .append("div")
      .attr("class", "tt-sources")
      .selectAll("div")
      .data(sources)
      .join("div")
      .attr("class", "tt-source");
    rows
      .append("span")
      .attr("class", "tt-source-name")
      .text((d) => sourceName(d[0]));
    rows
      .append("span")
      .attr("class", "tt-bar")
      .append("span")
      .style("width", (d) => `${Math.max(4, (100 * d[1]) / top)}%`);
    rows
      .append("span")
      .attr("class", "tt-source-points")
      .text((d) => d3.format(".3~s")(d[1]));
  }
}

/** Return {show(item, event), move(event), hide()} driving the card in `element`. */
export function createTooltip(element) {
  const card = d3.select(element).attr("role", "tooltip").classed("visible", false);
  let lastEvent = null;
  let currentId = null;
  let colourGenre = null;

  function place(event) {
    if (!event) return;
    lastEvent = event;
    const box = element.getBoundingClientRect();
    let x;
    let y;
    if (event.clientX !== undefined && event.type.startsWith("pointer")) {
      x = event.clientX + GAP;
      y = event.clientY + GAP;
    } else {
      // Keyboard focus: anchor to the focused bubble.
      const target = event.currentTarget?.getBoundingClientRect?.() ?? { right: 0, top: 0 };
      x = target.right + 4;
      y = target.top;
    }
    if (x + box.width > window.innerWidth - 8) x = Math.max(8, x - box.width - 2 * GAP);
    if (y + box.height > window.innerHeight - 8) y = Math.max(8, window.innerHeight - box.height - 8);
    card.style("transform", `translate(${Math.round(x)}px, ${Math.round(y)}px)`);
  }

  return {
    show(item, event) {
      currentId = item.title_id;
      fill(card, item, colourGenre);
      card.classed("visible", true);
      place(event);
    },
    move(event) {
      place(event);
    },
    hide() {
      card.classed("visible", false);
      lastEvent = null;
      currentId = null;
    },
    /** Return the title_id the card is showing, or null. */
    currentId() {
      return currentId;
    },
    /** Redraw the card with fresh data for the title it shows (a live update arrived). */
    refresh(item) {
      if (currentId !== null && item.title_id === currentId) {
        fill(card, item, colourGenre);
        place(lastEvent);
      }
    },
    /** Colour the card by this genre where the title has it (the genre filter). */
    colourGenre(genre) {
      colourGenre = genre || null;
    },
  };
}
