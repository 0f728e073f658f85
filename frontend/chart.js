// The bubble chart, as a reusable chart (Bostock, "Towards Reusable Charts"):
//
//   const chart = bubbleChart().width(800).height(600).tooltip(tip);
//   d3.select("#chart").datum(items).call(chart);   // call again with new items
//
// A force simulation packs the bubbles; the data join is keyed by title_id, so a title
// that changes score moves and grows or shrinks in place instead of blinking. Radius is
// proportional to sqrt(score), so area is proportional to score. Server text is only ever
// set with .text().
//
// Keyboard: the bubbles are one tab stop (roving tabindex); arrow keys move to the nearest
// bubble that way, Home/End to the first/last by rank, Enter or Space selects. With
// reducedMotion(true) nothing animates: the layout is computed at once and drawn final.

import { nearestInDirection } from "./geometry.js";
import { bubbleLabel, genreColour, isDark, primaryGenre, rankChange, wrapLines } from "./labels.js";

const d3 = globalThis.d3;

export function bubbleChart() {
  let width = 960;
  let height = 600;
  let fillShare = 0.36; // share of the canvas the bubbles cover together
  let minRadius = 7;
  let labelMinRadius = 30;
  let duration = 650;
  let tooltip = null;
  let highlighted = null;
  let colourGenre = null; // colour by this genre where a title has it (the genre filter)
  let reducedMotion = false;
  let onSelect = () => {};
  let focusId = null; // the bubble that holds the chart's one tab stop
  let selectedId = null;

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
        const svg = enter.append("svg").attr("class", "bubble-chart").attr("focusable", "false");
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
      .attr("aria-label", `Bubble chart of ${items.length} trending titles`)
      .attr("role", "group")
      .attr("aria-roledescription", "bubble chart");

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
      if (reducedMotion) node.r = node.target;
    }
    for (const id of nodes.keys()) if (!seen.has(id)) nodes.delete(id);
    const list = [...nodes.values()].sort((a, b) => b.target - a.target);
    const hadFocus = root.node().contains(document.activeElement);

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
      .alpha(Math.max(simulation.alpha(), 0.6));
    if (reducedMotion) {
      // No motion: run the layout to rest now and draw only where it ends.
      simulation.stop();
      const ticks = Math.ceil(Math.log(simulation.alphaMin()) / Math.log(1 - simulation.alphaDecay()));
      for (let i = 0; i < ticks; i += 1) {
        simulation.tick();
        clamp(list);
      }
    } else {
      simulation.restart();
    }

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
    if (reducedMotion) ticked();
    applyHighlight();
    applyFocus(hadFocus);
  }

  function clamp(list) {
    for (const d of list) {
      d.x = Math.max(d.r + 1, Math.min(width - d.r - 1, d.x));
      d.y = Math.max(d.r + 1, Math.min(height - d.r - 1, d.y));
    }
  }

  function colourOf(d) {
    return genreColour(primaryGenre(d.item, colourGenre));
  }

  /** Keep exactly one bubble tabbable; move focus on if the focused bubble has gone. */
  function applyFocus(hadFocus) {
    const bubbles = root.select("g.bubbles").selectAll("g.bubble");
    const ids = new Set(bubbles.data().map((d) => d.id));
    if (!ids.has(focusId)) {
      const best = d3.least(bubbles.data(), (d) => d.item.rank);
      focusId = best?.id ?? null;
      if (hadFocus && !root.node().contains(document.activeElement)) focusBubble(focusId);
    }
    bubbles.attr("tabindex", (d) => (d.id === focusId ? 0 : -1));
    bubbles.classed("selected", (d) => d.id === selectedId);
  }

  function focusBubble(id) {
    if (id == null || !root) return;
    focusId = id;
    const bubbles = root.select("g.bubbles").selectAll("g.bubble");
    bubbles.attr("tabindex", (d) => (d.id === focusId ? 0 : -1));
    bubbles.filter((d) => d.id === id).node()?.focus();
  }

  function onKey(event, d) {
    const list = root.select("g.bubbles").selectAll("g.bubble").data();
    const byRank = [...list].sort((a, b) => a.item.rank - b.item.rank);
    let next = null;
    switch (event.key) {
      case "Enter":
      case " ":
        event.preventDefault();
        select(d, event.currentTarget);
        return;
      case "Home":
        next = byRank[0]?.id;
        break;
      case "End":
        next = byRank.at(-1)?.id;
        break;
      case "ArrowRight":
      case "ArrowLeft":
      case "ArrowUp":
      case "ArrowDown": {
        next = nearestInDirection(d, list, event.key);
        if (next == null) {
          // Nothing further that way: step through the ranking instead, so every bubble
          // can be reached with the arrows alone.
          const i = byRank.findIndex((b) => b.id === d.id);
          const step = event.key === "ArrowRight" || event.key === "ArrowDown" ? 1 : -1;
          next = byRank[(i + step + byRank.length) % byRank.length]?.id;
        }
        break;
      }
      default:
        return;
    }
    event.preventDefault();
    if (next != null && next !== d.id) focusBubble(next);
  }

  function select(d, element) {
    selectedId = d.id;
    root?.selectAll("g.bubble").classed("selected", (b) => b.id === selectedId);
    onSelect(d.item, element);
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
      .attr("tabindex", -1)
      .attr("role", "button")
      .attr("aria-haspopup", "dialog")
      .attr("transform", (d) => `translate(${d.x},${d.y})`)
      .on("pointerenter focus", (event, d) => {
        d3.select(event.currentTarget).classed("hovered", true);
        if (event.type === "focus") focusId = d.id;
        tooltip?.show(d.item, event);
      })
      .on("click", (event, d) => select(d, event.currentTarget))
      .on("keydown", (event, d) => onKey(event, d))
      .on("pointermove", (event) => tooltip?.move(event))
      .on("pointerleave blur", (event) => {
        d3.select(event.currentTarget).classed("hovered", false);
        tooltip?.hide();
      });
    g.append("circle")
      .attr("class", "body")
      .attr("r", 0)
      .attr("fill", colourOf)
      .attr("stroke", (d) => d3.color(colourOf(d)).brighter(0.8));
    g.append("circle").attr("class", "shine").attr("r", 0).attr("fill", "url(#bubble-shine)");
    const label = g.append("text").attr("class", "label").attr("text-anchor", "middle");
    label.append("tspan").attr("class", "name");
    label.append("tspan").attr("class", "name");
    label.append("tspan").attr("class", "score");
    label.append("tspan").attr("class", "delta");
    if (!reducedMotion) g.style("opacity", 0).transition().duration(duration).style("opacity", 1);
    return g;
  }

  function exitBubbles(exit) {
    // Stop counting it as a bubble right away (tests and the legend count .bubble).
    if (!exit.filter(".hovered").empty()) tooltip?.hide();
    exit.classed("bubble", false).classed("bubble-exit", true).on(".", null).attr("tabindex", null);
    if (reducedMotion) return exit.remove();
    exit.transition().duration(duration).ease(d3.easeCubicIn).style("opacity", 0).remove();
    exit.selectAll("circle").transition().duration(duration).ease(d3.easeCubicIn).attr("r", 0);
    return exit;
  }

  function updateBubbles(selection, changed) {
    selection
      .attr("aria-label", (d) => bubbleLabel(d.item))
      .attr("data-score", (d) => Math.round(d.item.score))
      .attr("data-genre", (d) => primaryGenre(d.item, colourGenre));
    const body = selection.select("circle.body");
    (reducedMotion ? body : body.transition().duration(duration))
      .attr("fill", colourOf)
      .attr("stroke", (d) => d3.color(colourOf(d)).brighter(0.8));
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
        .classed("on-dark", isDark(colourOf(d)))
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
      if (changed.has(d.id) && !reducedMotion) pulse(g, d);
    });
  }

  function pulse(g, d) {
    g.insert("circle", "circle.body")
      .attr("class", "pulse")
      .attr("r", d.r)
      .attr("stroke", colourOf(d))
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
      .classed("dimmed", (d) => highlighted !== null && primaryGenre(d.item, colourGenre) !== highlighted);
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
  /** Colour titles that have `genre` by it, whatever their first genre (null: first genre). */
  chart.colourGenre = function (value) {
    return arguments.length ? ((colourGenre = value || null), chart) : colourGenre;
  };
  /** Draw final states at once, without transitions or a moving layout. */
  chart.reducedMotion = function (value) {
    return arguments.length ? ((reducedMotion = Boolean(value)), chart) : reducedMotion;
  };
  /** Called with (item, element) when a bubble is clicked or Enter/Space is pressed on it. */
  chart.onSelect = function (value) {
    return arguments.length ? ((onSelect = value), chart) : onSelect;
  };
  /** Mark a title as the one whose details are open (null: none). */
  chart.selected = function (value) {
    if (!arguments.length) return selectedId;
    selectedId = value;
    root?.selectAll("g.bubble").classed("selected", (d) => d.id === selectedId);
    return chart;
  };
  /** Focus a title's bubble (for returning focus when the detail panel closes). */
  chart.focus = function (id) {
    focusBubble(id);
    return chart;
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
