// Copies the browser libraries the Worker serves as static assets from node_modules into public/, so no page ever
// loads a CDN: the API reference renderers for /docs and /redoc (src/routes/docs.ts: Swagger UI from
// swagger-ui-dist, ReDoc's standalone bundle from redoc) into public/docs-assets/, and the demo page's Markdown
// renderer and sanitiser (public/app/markdown.js: marked, DOMPurify) into public/app/vendor/. The copies are
// committed, so `npm ci` and `wrangler deploy` need nothing from this script; run it after upgrading any of these
// packages (pinned exactly):
//   node scripts/docs-assets.mjs          copy (replaces each library's folder)
//   node scripts/docs-assets.mjs --check  exit 1 when the copies differ from the installed packages
// Plain .mjs (no type stripping) so it runs on any Node that npm runs on.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const target = join(root, "public");

/** Per library: its folder under public/, its package, and the files of it the pages load (plus their licences). */
const LIBRARIES = [
  { folder: "docs-assets/swagger-ui", pkg: "swagger-ui-dist", files: ["swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE"] },
  { folder: "docs-assets/redoc", pkg: "redoc", files: ["bundles/redoc.standalone.js", "bundles/redoc.standalone.js.LICENSE.txt", "LICENSE"] },
  { folder: "app/vendor/marked", pkg: "marked", files: ["lib/marked.esm.js", "LICENSE"] },
  { folder: "app/vendor/dompurify", pkg: "dompurify", files: ["dist/purify.es.mjs", "LICENSE"] },
];

// The top-level install: a direct, exactly pinned dependency (not a nested copy some other package brought along);
// by path, since some packages (dompurify) do not export their package.json.
const packageDir = (pkg) => join(root, "node_modules", pkg);
const versionOf = (pkg) => JSON.parse(readFileSync(join(packageDir(pkg), "package.json"), "utf8")).version;
const base = (file) => file.split("/").pop();

if (process.argv.includes("--check")) {
  const differences = [];
  for (const { folder, pkg, files } of LIBRARIES) {
    const to = join(target, folder);
    const actual = existsSync(to) ? readdirSync(to) : [];
    for (const name of actual) if (!files.map(base).includes(name)) differences.push(`extra ${folder}/${name}`);
    for (const file of files) {
      const copy = join(to, base(file));
      if (!existsSync(copy)) differences.push(`missing ${folder}/${base(file)}`);
      else if (!readFileSync(join(packageDir(pkg), file)).equals(readFileSync(copy))) differences.push(`changed ${folder}/${base(file)}`);
    }
  }
  if (differences.length) {
    console.error(`public/ differs from the installed packages:\n  ${differences.join("\n  ")}\nRun: node scripts/docs-assets.mjs`);
    process.exit(1);
  }
  console.log(`public/ matches ${LIBRARIES.map(({ pkg }) => `${pkg} ${versionOf(pkg)}`).join(", ")}`);
} else {
  for (const { folder, pkg, files } of LIBRARIES) {
    const to = join(target, folder);
    rmSync(to, { recursive: true, force: true });
    mkdirSync(to, { recursive: true });
    for (const file of files) copyFileSync(join(packageDir(pkg), file), join(to, base(file)));
  }
  console.log(`copied ${LIBRARIES.map(({ pkg }) => `${pkg} ${versionOf(pkg)}`).join(", ")} to public/`);
}
