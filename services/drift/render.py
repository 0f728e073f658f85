"""Render a drift report as HTML with PNG plots, as files for the object store.

The HTML references each plot by its file name, so the run's folder (``drift/<id>/``) is
self-contained: download it, open ``report.html``. Matplotlib's object API (``Figure``)
rather than pyplot: no global state, safe to run in a worker thread.
"""

from __future__ import annotations

import html
import io
import itertools
import re
from collections.abc import Mapping
from typing import Any

from matplotlib.figure import Figure

TOP_CATEGORIES = 15
TOP_GENRES = 8
REF_COLOUR, CUR_COLOUR = "#7f8c8d", "#e67e22"
LEVEL_COLOURS = {"ok": "#27ae60", "warn": "#f39c12", "alert": "#c0392b", None: "#bdc3c7"}


def plot_name(prefix: str, feature: str) -> str:
    """Return a safe file name for a feature's plot."""
    return f"{prefix}_{re.sub(r'[^A-Za-z0-9_.-]', '_', feature)}.png"


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=90, metadata={"Software": None})
    return buffer.getvalue()


def _bin_labels(edges: list[float]) -> list[str]:
    bounds = ["-inf", *(f"{e:.3g}" for e in edges), "+inf"]
    return [f"[{a}, {b})" for a, b in itertools.pairwise(bounds)]


def histogram(feature: str, result: Mapping[str, Any]) -> bytes:
    """Plot reference vs current shares per bin of a numeric feature."""
    bins = result["bins"]
    labels = _bin_labels(bins["edges"])
    x = range(len(labels))
    figure = Figure(figsize=(7, 3.2))
    ax = figure.subplots()
    ax.bar([i - 0.2 for i in x], bins["reference"], width=0.4, label="reference", color=REF_COLOUR)
    ax.bar([i + 0.2 for i in x], bins["current"], width=0.4, label="current", color=CUR_COLOUR)
    ax.set_xticks(list(x), labels, rotation=35, ha="right", fontsize=7)
    ax.set_ylabel("share")
    ax.set_title(f"{feature}: PSI {result['psi']:.3f}")
    ax.legend(fontsize=8)
    return _png(figure)


def categories(feature: str, result: Mapping[str, Any]) -> bytes:
    """Plot reference vs current shares of a categorical feature's main categories."""
    shares = result["categories"]
    top = sorted(shares, key=lambda c: -max(shares[c]["reference"], shares[c]["current"]))
    top = top[:TOP_CATEGORIES][::-1]
    y = range(len(top))
    figure = Figure(figsize=(7, 0.3 * len(top) + 1.2))
    ax = figure.subplots()
    ref = [shares[c]["reference"] for c in top]
    cur = [shares[c]["current"] for c in top]
    ax.barh([i + 0.2 for i in y], ref, height=0.4, label="reference", color=REF_COLOUR)
    ax.barh([i - 0.2 for i in y], cur, height=0.4, label="current", color=CUR_COLOUR)
    ax.set_yticks(list(y), top, fontsize=7)
    ax.set_xlabel("share")
    ax.set_title(f"{feature}: PSI {result['psi']:.3f}")
    ax.legend(fontsize=8)
    return _png(figure)


def psi_bars(report: Mapping[str, Any]) -> bytes:
    """Plot every judged feature's PSI against the warning and alert lines."""
    judged = {n: f for n, f in report["features"].items() if f["psi"] is not None}
    names = sorted(judged)[::-1]
    figure = Figure(figsize=(7, 0.3 * max(len(names), 1) + 1.2))
    ax = figure.subplots()
    ax.barh(
        names,
        [judged[n]["psi"] for n in names],
        color=[LEVEL_COLOURS[judged[n]["level"]] for n in names],
    )
    thresholds = report["thresholds"]
    ax.axvline(thresholds["psi_warn"], color=LEVEL_COLOURS["warn"], linestyle="--")
    ax.axvline(thresholds["psi_alert"], color=LEVEL_COLOURS["alert"], linestyle="--")
    ax.set_xlabel("PSI")
    ax.set_title("PSI per feature" if names else "PSI per feature: none had enough data")
    return _png(figure)


def genres_over_time(report: Mapping[str, Any]) -> bytes:
    """Plot the shares of the most frequent predicted genres per time bucket."""
    rows = report["agreement"]["over_time"]
    totals: dict[str, float] = {}
    for row in rows:
        for genre, share in row["genre_shares"].items():
            totals[genre] = totals.get(genre, 0.0) + share
    top = sorted(totals, key=lambda g: -totals[g])[:TOP_GENRES]
    figure = Figure(figsize=(7, 3.6))
    ax, ax2 = figure.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    x = list(range(len(rows)))
    for genre in top:
        ax.plot(x, [row["genre_shares"].get(genre, 0.0) for row in rows], marker=".", label=genre)
    ax.set_ylabel("share of titles")
    ax.set_title(f"predicted genres per {report['agreement']['bucket']}")
    if top:
        ax.legend(fontsize=7, ncol=4)
    ax2.plot(x, [row["agreement"] for row in rows], marker=".", color="black")
    ax2.set_ylabel("model–LLM\nagreement", fontsize=8)
    ax2.set_ylim(0, 1.05)
    ticks = x[:: max(1, len(x) // 8)]
    ax2.set_xticks(ticks, [rows[i]["start"][5:16] for i in ticks], rotation=30, fontsize=7)
    return _png(figure)


def plots(report: Mapping[str, Any]) -> dict[str, bytes]:
    """Return every plot of a report by file name."""
    out = {"psi.png": psi_bars(report), "genres_over_time.png": genres_over_time(report)}
    for name, result in report["features"].items():
        if result["level"] is None:
            continue
        if result["kind"] == "numeric":
            out[plot_name("hist", name)] = histogram(name, result)
        else:
            out[plot_name("categories", name)] = categories(name, result)
    return out


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    return html.escape(str(value))


def _feature_rows(report: Mapping[str, Any]) -> str:
    rows = []
    for name, f in report["features"].items():
        colour = LEVEL_COLOURS[f["level"]]
        cells = [name, f["kind"], f["test"], f["statistic"], f["p_value"], f["psi"]]
        cells += [f["reference_n"], f["current_n"]]
        level = html.escape(f["level"] or "no verdict")
        rows.append(
            "<tr>"
            + "".join(f"<td>{_cell(c)}</td>" for c in cells)
            + f'<td style="color:{colour}"><b>{level}</b></td><td>{_cell(f["note"])}</td></tr>'
        )
    return "\n".join(rows)


def _summary_rows(report: Mapping[str, Any]) -> str:
    rows = []
    for name, f in report["features"].items():
        if f["kind"] != "numeric":
            continue
        for side in ("reference", "current"):
            s = f["summary"][side] or {}
            keys = ("min", "max", "mean", "median", "missing_pct")
            cells = [name, side, *(s.get(k) for k in keys)]
            rows.append("<tr>" + "".join(f"<td>{_cell(c)}</td>" for c in cells) + "</tr>")
    return "\n".join(rows)


def page(report: Mapping[str, Any], images: Mapping[str, bytes]) -> str:
    """Return the report's HTML page; plots are referenced by file name."""
    verdict = report["verdict"]
    ref = report["reference"]
    agree = report["agreement"]
    imgs = "\n".join(
        f'<img src="{html.escape(name)}" alt="{html.escape(name)}">' for name in sorted(images)
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Drift report {_cell(report["id"])}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:70em}}td,th{{padding:2px 8px;
text-align:left;border-bottom:1px solid #ddd}}img{{display:block;margin:1em 0;max-width:100%}}
</style></head><body>
<h1>Drift report: <span style="color:{LEVEL_COLOURS[verdict]}">{_cell(verdict or "no verdict")}
</span></h1>
<p>{_cell(report["note"])}</p>
<p>Window {_cell(report["window"]["start"])} → {_cell(report["window"]["end"])};
model {_cell(report["model_version"])}; {report["current"]["titles"]} titles,
{report["current"]["observations"]} observations.</p>
<p>Reference: <b>{_cell(ref["kind"])}</b> {_cell(ref.get("reason"))}</p>
<p>Model–LLM genre agreement: current {_cell(agree["current"])},
reference {_cell(agree["reference"])}.</p>
<h2>Features</h2>
<table><tr><th>feature</th><th>kind</th><th>test</th><th>statistic</th><th>p</th><th>PSI</th>
<th>ref n</th><th>cur n</th><th>verdict</th><th>note</th></tr>
{_feature_rows(report)}
</table>
<h2>Summary statistics</h2>
<table><tr><th>feature</th><th>side</th><th>min</th><th>max</th><th>mean</th><th>median</th>
<th>missing %</th></tr>
{_summary_rows(report)}
</table>
<h2>Plots</h2>
{imgs}
</body></html>
"""
