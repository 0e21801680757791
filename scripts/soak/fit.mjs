// The leak check's arithmetic: least-squares slope of RSS over requests.

/** Slope (y per x) and intercept of the least-squares line through points [{x, y}]. */
export function leastSquares(points) {
  const n = points.length;
  if (n < 2) return { slope: NaN, intercept: NaN };
  let sx = 0, sy = 0;
  for (const p of points) {
    sx += p.x;
    sy += p.y;
  }
  const mx = sx / n, my = sy / n;
  let sxy = 0, sxx = 0;
  for (const p of points) {
    sxy += (p.x - mx) * (p.y - my);
    sxx += (p.x - mx) * (p.x - mx);
  }
  const slope = sxx === 0 ? NaN : sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

/** Mean of the y values whose x lies in [from, to]. */
export function meanBetween(points, from, to) {
  const inside = points.filter((p) => p.x >= from && p.x <= to);
  return inside.length === 0 ? NaN : inside.reduce((sum, p) => sum + p.y, 0) / inside.length;
}
