// Numbers for drawing: sparkline scales and which bubble an arrow key moves to.
// Pure functions (no DOM, no d3), so check.mjs tests them under node.

/**
 * Return the scales and path of a score sparkline, or null when there are no points.
 *
 * `points` are {at: ISO string, score: 0–100}; x is time (oldest left), y the score on a
 * fixed 0–100 scale (so the windows' lines compare), top = 100. One point is drawn as a
 * flat line across the whole width. `area` closes the line down to the 0 baseline.
 */
export function sparklineGeometry(
  points,
  { width = 160, height = 36, pad = 3, start = null, end = null } = {},
) {
  const data = (points ?? [])
    .map((p) => ({ t: Date.parse(p.at), score: Number(p.score), rank: p.rank }))
    .filter((p) => Number.isFinite(p.t) && Number.isFinite(p.score))
    .sort((a, b) => a.t - b.t);
  if (!data.length) return null;
  const t0 = start ?? data[0].t;
  const t1 = end ?? data.at(-1).t;
  const span = t1 - t0;
  const x = (t) => (span > 0 ? pad + ((t - t0) / span) * (width - 2 * pad) : width - pad);
  const y = (score) => pad + (1 - Math.min(100, Math.max(0, score)) / 100) * (height - 2 * pad);
  const coords = data.map((p) => [x(p.t), y(p.score)]);
  if (coords.length === 1) coords.unshift([pad, coords[0][1]]);
  const path = coords.map(([px, py], i) => `${i ? "L" : "M"}${px.toFixed(1)},${py.toFixed(1)}`).join("");
  const scores = data.map((p) => p.score);
  const last = data.at(-1);
  // The area under the line, down to the 0 baseline, for a light fill.
  const area = `${path}V${(height - pad).toFixed(1)}H${coords[0][0].toFixed(1)}Z`;
  return {
    path,
    area,
    x,
    y,
    count: data.length,
    min: Math.min(...scores),
    max: Math.max(...scores),
    first: data[0],
    last: { ...last, x: x(last.t), y: y(last.score) },
  };
}

const DIRECTIONS = {
  ArrowRight: [1, 0],
  ArrowLeft: [-1, 0],
  ArrowDown: [0, 1],
  ArrowUp: [0, -1],
};

/**
 * Return the id of the bubble an arrow key moves to from `from`, or null.
 *
 * Candidates lie within 60° either side of the arrow's direction; the nearest wins, with
 * distance off the axis counting double so the move feels straight.
 */
export function nearestInDirection(from, candidates, key) {
  const dir = DIRECTIONS[key];
  if (!dir || !from) return null;
  let best = null;
  let bestCost = Infinity;
  for (const c of candidates) {
    if (c.id === from.id) continue;
    const dx = c.x - from.x;
    const dy = c.y - from.y;
    const along = dx * dir[0] + dy * dir[1];
    const across = Math.abs(dx * dir[1] - dy * dir[0]);
    if (along <= 0 || across > along * Math.tan(Math.PI / 3)) continue;
    const cost = along + 2 * across;
    if (cost < bestCost) {
      bestCost = cost;
      best = c.id;
    }
  }
  return best;
}
