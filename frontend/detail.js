// The detail panel of one title: what it is, why it trends, a score-history sparkline per
// window (GET /api/titles/{id}/history) and the classifier's genres against the LLM's
// (GET /api/titles/{id}). Built with d3 and .text() only: server strings never become markup.
// Closes with its button or Escape, and hands focus back to whoever opened it.

import { genreComparison, whyTrending } from "./explain.js";
import { sparklineGeometry } from "./geometry.js";
import { genreColour, primaryGenre } from "./labels.js";

const d3 = globalThis.d3;
const MEDIA = { movie: "Movie", tv: "TV series" };
const HOUR = 3_600_000;
/** The windows drawn, with how far back each sparkline reaches. */
const HISTORY = [
  { window: "live", label: "Live", back: 24 * HOUR },
  { window: "day", label: "Today", back: 24 * HOUR },
  { window: "week", label: "This week", back: 7 * 24 * HOUR },
];
const SPARK = { width: 220, height: 40, pad: 3 };

function section(body, title, className) {
  const box = body.append("section").attr("class", `detail-section ${className}`);
  box.append("h3").text(title);
  return box;
}

function drawSparkline(row, points, { start, end, label }) {
  const geometry = sparklineGeometry(points, { ...SPARK, start, end });
  row.select(".spark-note").text(
    geometry
      ? `${Math.round(geometry.last.score)} now · ${Math.round(geometry.min)}–${Math.round(geometry.max)}`
      : "no history yet",
  );
  if (!geometry) return;
  const svg = row
    .select(".spark-slot")
    .append("svg")
    .attr("class", "sparkline")
    .attr("viewBox", [0, 0, SPARK.width, SPARK.height])
    .attr("preserveAspectRatio", "none")
    .attr("role", "img")
    .attr("data-points", geometry.count)
    .attr(
      "aria-label",
      `${label} score history: ${geometry.count} points, from ${Math.round(geometry.first.score)} ` +
        `to ${Math.round(geometry.last.score)}`,
    );
  svg
    .append("path")
    .attr("class", "spark-area")
    .attr("d", geometry.area);
  svg.append("path").attr("class", "spark-line").attr("d", geometry.path);
  svg
    .append("circle")
    .attr("class", "spark-dot")
    .attr("cx", geometry.last.x)
    .attr("cy", geometry.last.y)
    .attr("r", 2.6);
}

function drawGenres(box, genres) {
  const { rows, agree, total } = genreComparison(genres);
  if (!rows.length) {
    box.append("p").attr("class", "detail-muted").text("No genres classified yet.");
    return;
  }
  box
    .append("p")
    .attr("class", "detail-muted")
    .text(
      total
        ? `The model and the LLM agree on ${agree} of ${total} ${total === 1 ? "genre" : "genres"}.`
        : "Only the source's genres are known.",
    );
  const table = box.append("table").attr("class", "genre-table");
  const head = table.append("thead").append("tr");
  for (const name of ["Genre", "LLM", "Model", "Source"]) head.append("th").attr("scope", "col").text(name);
  const tr = table.append("tbody").selectAll("tr").data(rows).join("tr");
  tr.append("th")
    .attr("scope", "row")
    .text((d) => d.genre);
  tr.append("td")
    .attr("class", (d) => (d.llm ? "yes" : "no"))
    .text((d) => (d.llm ? "yes" : "—"));
  const model = tr.append("td").attr("class", (d) => (d.model ? "yes" : "no"));
  model
    .append("span")
    .text((d) => (d.probability == null ? (d.model ? "yes" : "—") : `${Math.round(d.probability * 100)} %`));
  model
    .filter((d) => d.probability != null)
    .append("span")
    .attr("class", "prob-bar")
    .append("span")
    .style("width", (d) => `${Math.round(Math.max(0, Math.min(1, d.probability)) * 100)}%`);
  tr.append("td")
    .attr("class", (d) => (d.source ? "yes" : "no"))
    .text((d) => (d.source ? "yes" : "—"));
  if (genres.model_version) {
    box.append("p").attr("class", "detail-muted small").text(`model ${genres.model_version}`);
  }
}

function drawFacts(body, data) {
  const enrichment = data.enrichment;
  const overview = data.title?.overview;
  if (enrichment?.summary) body.select(".detail-summary").text(enrichment.summary);
  else if (overview) body.select(".detail-summary").text(overview);
  const tags = enrichment?.vibe_tags ?? [];
  body
    .select(".detail-tags")
    .selectAll("span")
    .data(tags)
    .join("span")
    .attr("class", "tt-tag")
    .text((d) => d);
  if (enrichment?.hype_score != null) {
    const by = [enrichment.provider, enrichment.model].filter(Boolean).join(" / ");
    body
      .select(".detail-hype")
      .text(`Hype ${Math.round(enrichment.hype_score)}/100${by ? ` · by ${by}` : ""}`);
  }
  const poster = data.title?.poster_url;
  if (poster && /^https?:\/\//.test(poster) && body.select(".detail-poster").empty()) {
    body
      .select(".detail-head")
      .insert("img", ":first-child")
      .attr("class", "detail-poster")
      .attr("alt", "")
      .attr("src", poster)
      .on("error", (event) => event.currentTarget.remove());
  }
}

/** Return {open(item, opener), close(), refresh(item), currentId()} for the panel `element`. */
export function createDetailPanel(element, { fetchTitle, fetchHistory, onClose = () => {}, now = Date.now }) {
  const panel = d3.select(element);
  const body = panel.select(".detail-body");
  const closeButton = panel.select(".detail-close");
  let current = null;
  let opener = null;
  let controller = null;

  closeButton.on("click", () => close());
  d3.select(document).on("keydown.detail", (event) => {
    if (event.key === "Escape" && current) {
      event.preventDefault();
      close();
    }
  });

  function fillHeader(item) {
    const head = body.select(".detail-head");
    head.select(".detail-title").text(item.title.name);
    const facts = [
      item.title.year,
      MEDIA[item.title.media_type] ?? item.title.media_type,
      item.genres.slice(0, 3).join(", "),
    ];
    head.select(".detail-sub").text(facts.filter(Boolean).join(" · "));
    head.select(".detail-score").text(`score ${Math.round(item.score)} · rank #${item.rank}`);
    body.select(".detail-why").text(whyTrending(item));
    panel.style("--accent", genreColour(primaryGenre(item)));
  }

  function open(item, from = null) {
    controller?.abort();
    controller = new AbortController();
    const { signal } = controller;
    current = item.title_id;
    opener = from;
    body.selectAll("*").remove();
    const head = body.append("header").attr("class", "detail-head");
    const heading = head.append("div").attr("class", "detail-heading");
    heading.append("h2").attr("class", "detail-title").attr("id", "detail-title").attr("tabindex", -1);
    heading.append("div").attr("class", "detail-sub");
    heading.append("div").attr("class", "detail-score");
    const why = section(body, "Why it's trending", "detail-why-box");
    why.append("p").attr("class", "detail-why");
    body.append("p").attr("class", "detail-summary");
    body.append("div").attr("class", "tt-tags detail-tags");
    body.append("p").attr("class", "detail-hype detail-muted");
    fillHeader(item);

    const history = section(body, "Score history", "detail-history");
    const end = now();
    for (const spec of HISTORY) {
      const row = history.append("div").attr("class", "spark-row").attr("data-window", spec.window);
      row.append("span").attr("class", "spark-label").text(spec.label);
      row.append("span").attr("class", "spark-slot");
      row.append("span").attr("class", "spark-note").text("loading…");
      const start = end - spec.back;
      fetchHistory(item.title_id, { window: spec.window, since: new Date(start) }, { signal })
        .then((data) => {
          if (!signal.aborted) drawSparkline(row, data.points ?? [], { start, end, label: spec.label });
        })
        .catch((error) => {
          if (!signal.aborted) row.select(".spark-note").text(`unavailable: ${error.message}`);
        });
    }

    const genres = section(body, "Genres: model vs LLM", "detail-genres");
    genres.append("p").attr("class", "detail-muted").text("loading…");
    fetchTitle(item.title_id, { signal })
      .then((data) => {
        if (signal.aborted) return;
        genres.selectAll("p").remove();
        drawGenres(genres, data.genres ?? {});
        drawFacts(body, data);
      })
      .catch((error) => {
        if (!signal.aborted) genres.select("p").text(`Details unavailable: ${error.message}`);
      });

    element.hidden = false;
    panel.classed("open", true);
    closeButton.node().focus();
  }

  function close() {
    if (!current) return;
    controller?.abort();
    const id = current;
    current = null;
    panel.classed("open", false);
    element.hidden = true;
    onClose(id, opener);
    opener = null;
  }

  return {
    open,
    close,
    /** Show fresh live numbers for the title that is open. */
    refresh(item) {
      if (item.title_id === current) fillHeader(item);
    },
    /** Return the title_id shown, or null when closed. */
    currentId() {
      return current;
    },
  };
}
