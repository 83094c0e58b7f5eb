// The JavaScript budget of the first route: the entry chunk, the portfolio view's chunk and
// everything they import statically, gzipped. Fails above BUDGET_KB (170 kB). The first
// contentful paint budget is measured in a real browser by e2e/run.mjs.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const dist = join(import.meta.dirname, "..", "dist");
const BUDGET_KB = Number(process.env.BUDGET_KB ?? 170);
const manifest = JSON.parse(readFileSync(join(dist, ".vite", "manifest.json"), "utf8"));
const entryKey = Object.keys(manifest).find((k) => manifest[k].isEntry);
const routeKey = Object.keys(manifest).find((k) => k.endsWith("views/Portfolio.tsx"));
if (!entryKey || !routeKey) throw new Error("budget: entry or portfolio chunk missing from the manifest");

const files = new Set();
const visit = (key) => {
  const chunk = manifest[key];
  if (!chunk || files.has(chunk.file)) return;
  files.add(chunk.file);
  (chunk.imports ?? []).forEach(visit);
};
visit(entryKey);
visit(routeKey);
let total = 0;
const rows = [...files].map((f) => {
  const gz = gzipSync(readFileSync(join(dist, f)), { level: 9 }).length;
  total += gz;
  return `  ${(gz / 1024).toFixed(1).padStart(7)} kB  ${f}`;
});
const kb = total / 1024;
console.log(`budget: initial route JavaScript (portfolio) ${kb.toFixed(1)} kB gzipped (budget ${BUDGET_KB} kB)\n${rows.join("\n")}`);
if (kb > BUDGET_KB) {
  console.error(`budget: over by ${(kb - BUDGET_KB).toFixed(1)} kB`);
  process.exit(1);
}
