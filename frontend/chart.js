// The bubble chart, as a reusable chart (Bostock, "Towards Reusable Charts"):
//
//   const chart = bubbleChart().width(800).height(600).tooltip(tip);
//   d3.select("#chart").datum(items).call(chart);   // call again with new items
//
// A force simulation packs the bubbles; the data join is keyed by title_id, so a title
// that changes score moves and grows or shrinks in place instead of blinking. Radius is
// proportional to sqrt(score), so area is proportional to score. Server text is only ever
// set with .text().

const d3 = globalThis.d3;

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

/** Return the genre a title is coloured by: its first genre. */
export function primaryGenre(item) {
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
  const { r, g, b } = d3.rgb(colour);
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

export function bubbleChart() {
  let width = 960;
  let height = 600;
  let fillShare = 0.36; // share of the canvas the bubbles cover together
  let minRadius = 7;
  let labelMinRadius = 30;
  let duration = 650;
  let tooltip = null;
  let highlighted = null;

  const nodes = new Map(); // title_id → {id, item, x, y, vx, vy, r, target}
  let root = null; // the <svg>
  let maxRadius = 1;

  const simulation = d3
    .forceSimulation()
    .alphaDecay(0.018)
    .velocityDecay(0.32)
    .force("x", d3.forceX())
    .force("y", d3.forceY())
    .force(
      "collide",
      d3
        .forceCollide((d) => d.r + 2)
        .strength(0.9)
        .iterations(2),
    )
    .on("tick", ticked)
    .stop();

  function chart(selection) {
    selection.each(function (items) {
      render(this, items ?? []);
    });
  }

  function render(container, items) {
    root = d3
      .select(container)
      .selectAll("svg.bubble-chart")
      .data([null])
      .join((enter) => {
        const svg = enter.append("svg").attr("class", "bubble-chart").attr("role", "img");
        const shine = svg
          .append("defs")
          .append("radialGradient")
          .attr("id", "bubble-shine")
          .attr("cx", "35%")
          .attr("cy", "30%")
          .attr("r", "70%");
        shine.append("stop").attr("offset", "0%").attr("stop-color", "#fff").attr("stop-opacity", 0.42);
        shine.append("stop").attr("offset", "45%").attr("stop-color", "#fff").attr("stop-opacity", 0.06);
        shine.append("stop").attr("offset", "100%").attr("stop-color", "#000").attr("stop-opacity", 0.28);
        svg.append("g").attr("class", "bubbles");
        return svg;
      })
      .attr("viewBox", [0, 0, width, height])
      .attr("width", width)
      .attr("height", height)
      .attr("aria-label", `Bubble chart of ${items.length} trending titles`);

    const radius = radiusScale(items);
    const changed = new Set();
    const seen = new Set();
    for (const item of items) {
      seen.add(item.title_id);
      let node = nodes.get(item.title_id);
      if (!node) {
        // Newcomers drift in from the rim of the cluster and grow from nothing.
        const angle = Math.random() * 2 * Math.PI;
        const reach = 0.42 * Math.min(width, height);
        node = {
          id: item.title_id,
          r: 0,
          x: width / 2 + reach * Math.cos(angle),
          y: height / 2 + reach * Math.sin(angle),
        };
        nodes.set(item.title_id, node);
      } else if (node.item.score !== item.score || node.item.rank !== item.rank) {
        changed.add(item.title_id);
      }
      node.item = item;
      node.target = radius(item.score);
    }
    for (const id of nodes.keys()) if (!seen.has(id)) nodes.delete(id);
    const list = [...nodes.values()].sort((a, b) => b.target - a.target);

    // Big bubbles are pulled harder towards the centre, so they settle in the middle;
    // the x pull is weaker on wide canvases so the cluster spreads to the canvas's shape.
    const aspect = Math.min(1, height / width);
    simulation
      .force(
        "x",
        d3.forceX(width / 2).strength((d) => (0.02 + 0.1 * (d.target / maxRadius)) * aspect),
      )
      .force(
        "y",
        d3.forceY(height / 2).strength((d) => 0.03 + 0.1 * (d.target / maxRadius)),
      )
      .nodes(list)
      .alpha(Math.max(simulation.alpha(), 0.6))
      .restart();

    root
      .select("g.bubbles")
      .selectAll("g.bubble")
      .data(list, (d) => d.id)
      .join(
        (enter) => enterBubbles(enter),
        (update) => update,
        (exit) => exitBubbles(exit),
      )
      .order()
      .call(updateBubbles, changed);
    applyHighlight();
  }

  function radiusScale(items) {
    const total = d3.sum(items, (d) => Math.max(0, d.score));
    maxRadius = Math.max(minRadius, 0.19 * Math.min(width, height));
    // Area ∝ score, with the constant chosen so the bubbles cover fillShare of the canvas.
    const k = total > 0 ? Math.sqrt((fillShare * width * height) / (Math.PI * total)) : 0;
    return (score) => Math.max(minRadius, Math.min(maxRadius, k * Math.sqrt(Math.max(0, score))));
  }

  function enterBubbles(enter) {
    const g = enter
      .append("g")
      .attr("class", "bubble")
      .attr("data-title-id", (d) => d.id)
      .attr("tabindex", 0)
      .attr("transform", (d) => `translate(${d.x},${d.y})`)
      .on("pointerenter focus", (event, d) => {
        d3.select(event.currentTarget).classed("hovered", true);
        tooltip?.show(d.item, event);
      })
      .on("pointermove", (event) => tooltip?.move(event))
      .on("pointerleave blur", (event) => {
        d3.select(event.currentTarget).classed("hovered", false);
        tooltip?.hide();
      });
    g.append("circle")
      .attr("class", "body")
      .attr("r", 0)
      .attr("fill", (d) => genreColour(primaryGenre(d.item)))
      .attr("stroke", (d) => d3.color(genreColour(primaryGenre(d.item))).brighter(0.8));
    g.append("circle").attr("class", "shine").attr("r", 0).attr("fill", "url(#bubble-shine)");
    const label = g.append("text").attr("class", "label").attr("text-anchor", "middle");
    label.append("tspan").attr("class", "name");
    label.append("tspan").attr("class", "name");
    label.append("tspan").attr("class", "score");
    label.append("tspan").attr("class", "delta");
    g.style("opacity", 0).transition().duration(duration).style("opacity", 1);
    return g;
  }

  function exitBubbles(exit) {
    // Stop counting it as a bubble right away (tests and the legend count .bubble).
    if (!exit.filter(".hovered").empty()) tooltip?.hide();
    exit.classed("bubble", false).classed("bubble-exit", true).on(".", null);
    exit.transition().duration(duration).ease(d3.easeCubicIn).style("opacity", 0).remove();
    exit.selectAll("circle").transition().duration(duration).ease(d3.easeCubicIn).attr("r", 0);
    return exit;
  }

  function updateBubbles(selection, changed) {
    selection.attr(
      "aria-label",
      (d) => `${d.item.title.name}: score ${Math.round(d.item.score)}, rank ${d.item.rank}`,
    );
    selection
      .select("circle.body")
      .transition()
      .duration(duration)
      .attr("fill", (d) => genreColour(primaryGenre(d.item)))
      .attr("stroke", (d) => d3.color(genreColour(primaryGenre(d.item))).brighter(0.8));
    selection.each(function (d) {
      const g = d3.select(this);
      const r = d.target;
      const show = r >= labelMinRadius;
      const fontSize = Math.max(10, Math.min(18, r / 4.2));
      const maxChars = Math.max(4, Math.floor((1.6 * r) / (fontSize * 0.56)));
      const lines = show ? wrapLines(d.item.title.name, maxChars, r > 55 ? 2 : 1) : [];
      const change = rankChange(d.item);
      const label = g
        .select("text.label")
        .classed("visible", show)
        .classed("on-dark", isDark(genreColour(primaryGenre(d.item))))
        .style("font-size", `${fontSize}px`);
      const top = -((lines.length - 1) * 1.05 + 0.9) / 2;
      label
        .selectAll("tspan.name")
        .attr("x", 0)
        .attr("y", (_, i) => `${top + i * 1.05 + 0.35}em`)
        .text((_, i) => lines[i] ?? "");
      label
        .select("tspan.score")
        .attr("x", 0)
        .attr("y", `${top + lines.length * 1.05 + 0.35}em`)
        .text(show ? Math.round(d.item.score) : "");
      label
        .select("tspan.delta")
        .attr("dx", "0.35em")
        .attr("class", `delta ${change.direction}`)
        .text(show && change.direction !== "same" ? change.text : "");
      if (changed.has(d.id)) pulse(g, d);
    });
  }

  function pulse(g, d) {
    g.insert("circle", "circle.body")
      .attr("class", "pulse")
      .attr("r", d.r)
      .attr("stroke", genreColour(primaryGenre(d.item)))
      .style("opacity", 0.9)
      .transition()
      .duration(1100)
      .ease(d3.easeCubicOut)
      .attr("r", d.target + 18)
      .style("opacity", 0)
      .remove();
  }

  function ticked() {
    if (!root) return;
    let growing = false;
    for (const d of simulation.nodes()) {
      // Radius eases towards its target inside the simulation, so collisions push the
      // neighbours aside smoothly while a bubble grows or shrinks.
      if (Math.abs(d.target - d.r) > 0.05) {
        d.r += (d.target - d.r) * 0.16;
        growing = true;
      }
      d.x = Math.max(d.r + 1, Math.min(width - d.r - 1, d.x));
      d.y = Math.max(d.r + 1, Math.min(height - d.r - 1, d.y));
    }
    // forceCollide reads radii when (re)initialised only: refresh them while they change.
    if (growing) simulation.force("collide").radius((d) => d.r + 2);
    const bubbles = root.select("g.bubbles").selectAll("g.bubble");
    bubbles.attr("transform", (d) => `translate(${d.x.toFixed(1)},${d.y.toFixed(1)})`);
    bubbles.select("circle.body").attr("r", (d) => d.r);
    bubbles.select("circle.shine").attr("r", (d) => d.r);
  }

  function applyHighlight() {
    if (!root) return;
    root
      .selectAll("g.bubble")
      .classed("dimmed", (d) => highlighted !== null && primaryGenre(d.item) !== highlighted);
  }

  chart.width = function (value) {
    return arguments.length ? ((width = value), chart) : width;
  };
  chart.height = function (value) {
    return arguments.length ? ((height = value), chart) : height;
  };
  chart.fillShare = function (value) {
    return arguments.length ? ((fillShare = value), chart) : fillShare;
  };
  chart.minRadius = function (value) {
    return arguments.length ? ((minRadius = value), chart) : minRadius;
  };
  chart.labelMinRadius = function (value) {
    return arguments.length ? ((labelMinRadius = value), chart) : labelMinRadius;
  };
  chart.duration = function (value) {
    return arguments.length ? ((duration = value), chart) : duration;
  };
  /** An object with show(item, event), move(event) and hide(). */
  chart.tooltip = function (value) {
    return arguments.length ? ((tooltip = value), chart) : tooltip;
  };
  /** Dim every bubble whose genre is not `genre` (null: none dimmed). */
  chart.highlight = function (genre) {
    if (!arguments.length) return highlighted;
    highlighted = genre;
    applyHighlight();
    return chart;
  };
  return chart;
}

/** A colour legend: d3.select(el).datum(items).call(genreLegend()). */
export function genreLegend() {
  let onHover = () => {};

  function legend(selection) {
    selection.each(function (items) {
      const counts = d3
        .rollups(items ?? [], (v) => v.length, primaryGenre)
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
      d3.select(this)
        .selectAll("ul")
        .data([null])
        .join("ul")
        .attr("class", "legend-list")
        .selectAll("li")
        .data(counts, (d) => d[0])
        .join((enter) => {
          const li = enter.append("li").attr("tabindex", 0);
          li.append("span").attr("class", "swatch");
          li.append("span").attr("class", "genre");
          li.append("span").attr("class", "count");
          li.on("pointerenter focus", (_, d) => onHover(d[0])).on("pointerleave blur", () => onHover(null));
          return li;
        })
        .call((li) =>
          li
            .select(".swatch")
            .style("background", (d) => genreColour(d[0]))
            .style("color", (d) => genreColour(d[0])),
        )
        .call((li) => li.select(".genre").text((d) => d[0]))
        .call((li) => li.select(".count").text((d) => d[1]));
    });
  }

  /** Called with a genre on hover, null on leave. */
  legend.onHover = function (value) {
    return arguments.length ? ((onHover = value), legend) : onHover;
  };
  return legend;
}
