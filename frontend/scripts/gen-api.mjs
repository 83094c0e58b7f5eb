// Generates src/api/schema.d.ts from the committed OpenAPI document.
// openapi-typescript crashes under TypeScript 7, so it runs from tools/openapi (TypeScript 5.9).
// `--check` regenerates into memory and fails when the committed file differs.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const SCHEMA = process.env.OPENAPI_SCHEMA ?? join(root, "..", "docs", "openapi.yaml");
const OUT = join(root, "src", "api", "schema.d.ts");
const tools = join(root, "tools", "openapi");
const bin = join(tools, "node_modules", ".bin", "openapi-typescript");

if (!existsSync(bin)) {
  execFileSync("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: tools, stdio: "inherit" });
}
if (!existsSync(SCHEMA)) {
  if (process.argv.includes("--check") && !existsSync(OUT)) {
    console.log(`gen-api: no OpenAPI document at ${SCHEMA} and no generated client yet: nothing to compare`);
    process.exit(0);
  }
  console.error(`gen-api: no OpenAPI document at ${SCHEMA}`);
  process.exit(1);
}
const header = "// Generated from the committed OpenAPI document by `npm run gen:api`. Do not edit.\n";
const body = execFileSync(bin, [SCHEMA, "--root-types", "--alphabetize", "--default-non-nullable=false"], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
const text = header + body;
if (process.argv.includes("--check")) {
  const current = existsSync(OUT) ? readFileSync(OUT, "utf8") : "";
  if (current !== text) {
    console.error("gen-api: src/api/schema.d.ts is out of date with the OpenAPI document; run `npm run gen:api` in frontend/.");
    process.exit(1);
  }
  console.log("gen-api: typed client is up to date with the OpenAPI document");
} else {
  writeFileSync(OUT, text);
  console.log(`gen-api: wrote ${OUT}`);
}
