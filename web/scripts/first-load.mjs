// First-load JavaScript per page of the static export: the scripts each page's HTML loads
// before it is interactive, summed raw and gzipped (what a browser downloads on a cold
// cache). `node scripts/first-load.mjs [--json]`; the budget test imports firstLoad().
import { readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";

export const OUT = path.join(import.meta.dirname, "..", "out");

function pages(dir = OUT, prefix = "/") {
  const found = [];
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (name === "_next" || name.startsWith("_not-found")) continue;
    if (statSync(full).isDirectory()) found.push(...pages(full, `${prefix}${name}/`));
    else if (name === "index.html") found.push([prefix, full]);
  }
  return found;
}

export function firstLoad() {
  return pages().sort().map(([route, html]) => {
    const text = readFileSync(html, "utf8");
    const scripts = [...new Set([...text.matchAll(/<script[^>]+src="([^"]+\.js)"/g)].map((m) => m[1]))];
    let raw = 0;
    let gzip = 0;
    for (const src of scripts) {
      const body = readFileSync(path.join(OUT, src.split("?")[0]));
      raw += body.length;
      gzip += gzipSync(body, { level: 9 }).length;
    }
    return { route, scripts: scripts.length, raw_kb: +(raw / 1024).toFixed(1), gzip_kb: +(gzip / 1024).toFixed(1) };
  });
}

if (process.argv[1] === import.meta.filename) {
  const rows = firstLoad();
  if (process.argv.includes("--json")) console.log(JSON.stringify(rows, null, 1));
  else for (const r of rows) console.log(`${r.route.padEnd(20)} ${String(r.scripts).padStart(3)} scripts ${String(r.raw_kb).padStart(7)} KB ${String(r.gzip_kb).padStart(6)} KB gzip`);
}
