// Fails when source code uses a raw HTML sink. oxlint's react/no-danger covers JSX;
// this covers the DOM APIs and string-evaluating calls that a JSX rule cannot see.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const roots = ["src"];
const sinks = [
  /dangerouslySetInnerHTML/,
  /\.innerHTML\s*[+]?=/,
  /\.outerHTML\s*[+]?=/,
  /insertAdjacentHTML\s*\(/,
  /document\.write(ln)?\s*\(/,
  /\bnew\s+Function\s*\(/,
  /\beval\s*\(/,
  /createContextualFragment\s*\(/,
  /\bsrcdoc\b/,
  /setHTMLUnsafe\s*\(/,
];
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (/\.(ts|tsx|js|mjs)$/.test(name) && !/\.d\.ts$/.test(name)) files.push(p);
  }
};
roots.forEach(walk);
const hits = [];
for (const f of files) {
  readFileSync(f, "utf8")
    .split("\n")
    .forEach((line, i) => {
      if (line.includes("sink-check: allow")) return;
      for (const re of sinks) if (re.test(line)) hits.push(`${relative(".", f)}:${i + 1}: ${line.trim()}`);
    });
}
if (hits.length) {
  console.error("raw HTML / code-evaluation sinks are forbidden (render text with JSX):\n" + hits.join("\n"));
  process.exit(1);
}
console.log(`check-sinks: ${files.length} files, no raw HTML sinks`);
