// The performance budget for first-load JavaScript (gzipped, per page of the static
// export). Measured 178 KB on 2026-11-26 (docs/benchmarks/journal.md); the budget leaves a little
// room, and a change that needs more says so here, with its numbers.
import assert from "node:assert/strict";
import { test } from "node:test";
import { firstLoad } from "../scripts/first-load.mjs";

const BUDGET_GZIP_KB = 200;

test(`every page's first-load JavaScript stays within ${BUDGET_GZIP_KB} KB gzipped`, () => {
  const rows = firstLoad();
  assert.ok(rows.length >= 9, `expected every page of the site, found ${rows.map((r) => r.route)}`);
  const over = rows.filter((r) => r.gzip_kb > BUDGET_GZIP_KB);
  assert.deepEqual(over, [], `over budget: ${JSON.stringify(over)}`);
});

test("the HLS player (hls.js) is not part of any page's first load", async () => {
  const { readFileSync } = await import("node:fs");
  const path = await import("node:path");
  const { OUT } = await import("../scripts/first-load.mjs");
  const html = readFileSync(path.join(OUT, "learn", "index.html"), "utf8");
  const scripts = [...html.matchAll(/<script[^>]+src="([^"]+\.js)"/g)].map((m) => m[1]);
  for (const src of scripts) {
    const body = readFileSync(path.join(OUT, src), "utf8");
    assert.ok(!body.includes("hlsjs") && !body.includes("HLS.js"), `${src} carries hls.js`);
  }
});
