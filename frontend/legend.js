// The genre legend: a swatch, name and count per genre shown. Hover or focus highlights the
// genre's bubbles; click, Enter or Space picks the genre as the filter (again: all genres).

import { genreColour, primaryGenre } from "./labels.js";

const d3 = globalThis.d3;

/** A colour legend: d3.select(el).datum(items).call(genreLegend()). */
export function genreLegend() {
  let onHover = () => {};
  let onPick = () => {};
  let active = null; // the genre filtered to, or null

  function legend(selection) {
    selection.each(function (items) {
      const counts = d3
        .rollups(items ?? [], (v) => v.length, (item) => primaryGenre(item, active))
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
      d3.select(this)
        .selectAll("ul")
        .data([null])
        .join("ul")
        .attr("class", "legend-list")
        .selectAll("li")
        .data(counts, (d) => d[0])
        .join((enter) => {
          const li = enter.append("li").attr("tabindex", 0).attr("role", "button");
          li.append("span").attr("class", "swatch").attr("aria-hidden", "true");
          li.append("span").attr("class", "genre");
          li.append("span").attr("class", "count");
          li.on("pointerenter focus", (_, d) => onHover(d[0]))
            .on("pointerleave blur", () => onHover(null))
            .on("click", (_, d) => onPick(d[0]))
            .on("keydown", (event, d) => {
              if (event.key !== "Enter" && event.key !== " ") return;
              event.preventDefault();
              onPick(d[0]);
            });
          return li;
        })
        .attr("aria-pressed", (d) => String(active !== null && d[0].toLowerCase() === active.toLowerCase()))
        .attr("aria-label", (d) => `${d[0]}: ${d[1]} ${d[1] === 1 ? "title" : "titles"}`)
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
  /** Called with a genre when it is clicked (or Enter/Space on it). */
  legend.onPick = function (value) {
    return arguments.length ? ((onPick = value), legend) : onPick;
  };
  /** The genre filtered to (its bubbles are counted under it), or null. */
  legend.active = function (value) {
    return arguments.length ? ((active = value || null), legend) : active;
  };
  return legend;
}
