// The dashboard's CSP allows exactly one inline <style>: lightweight-charts' attribution
// logo, by its sha256. Fails when the installed library's style text no longer matches the
// hash in tradebot/csp.py (e.g. after upgrading lightweight-charts).
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const fe = join(import.meta.dirname, "..");
const lib = readFileSync(join(fe, "node_modules", "lightweight-charts", "dist", "lightweight-charts.production.mjs"), "utf8");
const styles = [...lib.matchAll(/createElement\("style"\),this\.\w+\.innerText="([^"]*)"/g)].map((m) => m[1]);
if (styles.length !== 1) {
  console.error(`check-csp-hash: expected one inline style in lightweight-charts, found ${styles.length}`);
  process.exit(1);
}
const hash = `sha256-${createHash("sha256").update(styles[0]).digest("base64")}`;
const csp = readFileSync(join(fe, "..", "tradebot", "csp.py"), "utf8");
if (!csp.includes(`"${hash}"`)) {
  console.error(`check-csp-hash: tradebot/csp.py must allow ${hash} (lightweight-charts' logo style)`);
  process.exit(1);
}
console.log(`check-csp-hash: CSP allows lightweight-charts' logo style (${hash})`);
