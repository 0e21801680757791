// The chart: hand-written SVG, no dependencies. Two panels of grouped
// horizontal bars for the hello case (requests/s, and backend CPU µs per
// request), whiskers for the min–max over rounds, Go's net/http/fcgi marked
// as a line across each panel.
import { int, num } from "./format.mjs";
import { BENCH_NODE_MAJOR } from "./tools.mjs";

// The Node contenders run on Node 24; webfcgi on the machine's Node
// (webfcgi-node20 and the like), when it ran, has a group of its own, named
// for its Node (a null name: from the contender's label).
const GROUPS = [
  ["Deno", ["webfcgi-deno", "webfcgi-deno-x2", "proxy-deno"]],
  ["Bun", ["webfcgi-bun", "webfcgi-bun-x2", "proxy-bun"]],
  [`Node ${BENCH_NODE_MAJOR}`, ["webfcgi-node", "webfcgi-node-x2", "node-fastcgi", "proxy-node"]],
  [null, [/^webfcgi-node\d+$/]],
  ["Go", ["go-fcgi"]],
  ["PHP", ["php-fpm"]],
  ["nginx", ["nginx-return"]],
];

const inGroup = (ids, id) => ids.some((x) => (x instanceof RegExp ? x.test(id) : x === id));

/** The bar's label: short, the group names the runtime (and Node's version). */
function shortLabel(contender) {
  return contender.label
    .replace(/^webfcgi on Node [\d.]+ \(the machine's\)/, "webfcgi (the machine's)")
    .replace(/ on Node [\d.]+/, "")
    .replace(/^webfcgi on \w+/, "webfcgi");
}

const COLORS = { webfcgi: "#2563eb", proxy: "#94a3b8", peer: "#f59e0b", ceiling: "#10b981" };

function colorOf(contender) {
  if (contender.id.startsWith("webfcgi-")) return COLORS.webfcgi;
  if (contender.kind === "proxy") return COLORS.proxy;
  if (contender.kind === "ceiling") return COLORS.ceiling;
  return COLORS.peer;
}

const esc = (text) =>
  String(text).replace(
    /[&<>"]/g,
    (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[ch],
  );

function niceMax(value) {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) {
    if (step * power >= value) return step * power;
  }
  return 10 * power;
}

const LABEL_W = 190;
const BAR_W = 470;
const ROW_H = 22;
const GROUP_GAP = 10;

/** One panel; returns { svg, height }. `rows` are { contender, value: summary }. */
function panel(y0, title, rows, { format, refLines }) {
  const out = [];
  const values = rows.flatMap((r) => (r.value ? [r.value.max] : []));
  const max = niceMax(Math.max(...values, ...refLines.map((l) => l.value)));
  const x = (v) => LABEL_W + (v / max) * BAR_W;
  out.push(`<text x="10" y="${y0 + 16}" class="title">${esc(title)}</text>`);
  let y = y0 + 42;
  const top = y;
  const bars = [];
  for (const [group, ids] of GROUPS) {
    const members = rows.filter((r) => inGroup(ids, r.contender.id));
    if (members.length === 0) continue;
    const name = group ?? `Node ${/Node (\d+)/.exec(members[0].contender.label)?.[1] ?? ""}`;
    out.push(`<text x="10" y="${y + 15}" class="group">${esc(name)}</text>`);
    for (const { contender, value } of members) {
      const label = shortLabel(contender);
      bars.push(
        `<text x="${LABEL_W - 8}" y="${y + 15}" class="label" text-anchor="end">${
          esc(label)
        }</text>`,
      );
      if (value) {
        const w = Math.max(1, x(value.median) - LABEL_W);
        bars.push(
          `<rect x="${LABEL_W}" y="${y + 3}" width="${w.toFixed(1)}" height="${ROW_H - 6}" fill="${
            colorOf(contender)
          }" rx="2"/>`,
        );
        if (value.max > value.min) {
          const mid = y + ROW_H / 2;
          bars.push(
            `<path d="M${x(value.min).toFixed(1)} ${mid}H${x(value.max).toFixed(1)}M${
              x(value.min).toFixed(1)
            } ${mid - 4}v8M${x(value.max).toFixed(1)} ${mid - 4}v8" class="whisker"/>`,
          );
        }
        bars.push(
          `<text x="${(x(value.max) + 6).toFixed(1)}" y="${y + 15}" class="value">${
            esc(format(value.median))
          }</text>`,
        );
      } else {
        bars.push(`<text x="${LABEL_W + 6}" y="${y + 15}" class="value">not measured</text>`);
      }
      y += ROW_H;
    }
    y += GROUP_GAP;
  }
  const bottom = y - GROUP_GAP;
  // Grid and axis under the bars.
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    out.push(`<line x1="${x(v)}" y1="${top}" x2="${x(v)}" y2="${bottom}" class="grid"/>`);
    const tick = v === 0 ? "0" : format(v);
    out.push(
      `<text x="${x(v)}" y="${bottom + 14}" class="axis" text-anchor="middle">${esc(tick)}</text>`,
    );
  }
  out.push(...bars);
  for (const line of refLines) {
    const lx = x(line.value).toFixed(1);
    out.push(`<line x1="${lx}" y1="${top - 4}" x2="${lx}" y2="${bottom}" class="${line.style}"/>`);
    out.push(
      `<text x="${lx}" y="${top - 7}" class="ref" text-anchor="middle">${esc(line.label)}</text>`,
    );
  }
  return { svg: out.join("\n"), height: bottom + 24 - y0 };
}

/** The SVG text for a run (see run.mjs for its shape). */
export function chart(run) {
  const hello = run.table.hello ?? {};
  const rows = (field) =>
    run.contenders.map((c) => ({ contender: c, value: hello[c.id]?.[field] ?? null }))
      .filter((r) => hello[r.contender.id]);
  const go = hello["go-fcgi"];
  const goLine = (value, format) =>
    value
      ? [{ value: value.median, label: `Go net/http/fcgi ${format(value.median)}`, style: "go" }]
      : [];
  const top = panel(
    40,
    "hello (13 B) through nginx — requests per second, higher is better",
    rows("rps"),
    {
      format: (v) => int(v),
      refLines: goLine(go?.rps, int),
    },
  );
  const cpuRows = rows("cpuPerRequest").filter((r) => r.contender.kind !== "ceiling");
  const bottom = panel(
    40 + top.height + 20,
    "backend CPU per hello request — µs, lower is better",
    cpuRows,
    {
      format: (v) => `${num(v)} µs`,
      refLines: goLine(go?.cpuPerRequest, (v) => `${num(v)} µs`),
    },
  );
  const height = 40 + top.height + 20 + bottom.height + 40;
  const width = LABEL_W + BAR_W + 90;
  const legend = [
    [COLORS.webfcgi, "webfcgi (FastCGI)"],
    [COLORS.peer, "other FastCGI servers"],
    [COLORS.proxy, "nginx proxy_pass to the runtime's HTTP server"],
    [COLORS.ceiling, "nginx alone"],
  ];
  let lx = 10;
  const legendSvg = legend.map(([color, text]) => {
    const item = `<rect x="${lx}" y="${height - 26}" width="10" height="10" fill="${color}"/>` +
      `<text x="${lx + 14}" y="${height - 17}" class="axis">${esc(text)}</text>`;
    lx += 24 + text.length * 5.6;
    return item;
  }).join("\n");
  const meta = run.meta;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif">
<style>
.title { font-size: 14px; font-weight: 600; fill: #111827; }
.sub { font-size: 11px; fill: #6b7280; }
.group { font-size: 12px; font-weight: 600; fill: #374151; }
.label { font-size: 12px; fill: #374151; }
.value { font-size: 11px; fill: #111827; paint-order: stroke; stroke: #ffffff; stroke-width: 3px; }
.axis { font-size: 10px; fill: #6b7280; }
.ref { font-size: 10px; fill: #b91c1c; }
.grid { stroke: #e5e7eb; stroke-width: 1; }
.whisker { stroke: #111827; stroke-width: 1; fill: none; }
.go { stroke: #b91c1c; stroke-width: 1.5; stroke-dasharray: 5 3; }
</style>
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="10" y="20" class="title">webfcgi vs FastCGI peers and proxy_pass, through nginx (wrk, ${meta.connections} connections)</text>
<text x="10" y="34" class="sub">${
    esc(
      `${meta.date} · ${meta.machine.cpu}, ${meta.machine.cores} cores · ${meta.mode} run, median of ${meta.rounds} round(s) × ${meta.seconds} s, whiskers min–max`,
    )
  }</text>
${top.svg}
${bottom.svg}
${legendSvg}
</svg>
`;
}
