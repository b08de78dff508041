// Copies the API reference renderers (Swagger UI from swagger-ui-dist, ReDoc's standalone bundle from redoc) from
// node_modules to public/docs-assets/, which the Worker serves as static assets for /docs and /redoc
// (src/routes/docs.ts): the reference works offline and never loads a CDN. The copies are committed, so `npm ci`
// and `wrangler deploy` need nothing from this script; run it after upgrading either package (pinned exactly):
//   node scripts/docs-assets.mjs          copy (replaces public/docs-assets/swagger-ui and public/docs-assets/redoc)
//   node scripts/docs-assets.mjs --check  exit 1 when the copies differ from the installed packages
// Plain .mjs (no type stripping) so it runs on any Node that npm runs on.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(join(root, "package.json"));
const target = join(root, "public", "docs-assets");

/** Per renderer: its package, and the files of it the pages load (plus the licences that travel with them). */
const RENDERERS = [
  { folder: "swagger-ui", pkg: "swagger-ui-dist", files: ["swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE"] },
  { folder: "redoc", pkg: "redoc", files: ["bundles/redoc.standalone.js", "bundles/redoc.standalone.js.LICENSE.txt", "LICENSE"] },
];

const packageDir = (pkg) => dirname(require.resolve(`${pkg}/package.json`));
const versionOf = (pkg) => JSON.parse(readFileSync(join(packageDir(pkg), "package.json"), "utf8")).version;
const base = (file) => file.split("/").pop();

if (process.argv.includes("--check")) {
  const differences = [];
  for (const { folder, pkg, files } of RENDERERS) {
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
    console.error(`public/docs-assets differs from the installed packages:\n  ${differences.join("\n  ")}\nRun: node scripts/docs-assets.mjs`);
    process.exit(1);
  }
  console.log(`public/docs-assets matches ${RENDERERS.map(({ pkg }) => `${pkg} ${versionOf(pkg)}`).join(" and ")}`);
} else {
  for (const { folder, pkg, files } of RENDERERS) {
    const to = join(target, folder);
    rmSync(to, { recursive: true, force: true });
    mkdirSync(to, { recursive: true });
    for (const file of files) copyFileSync(join(packageDir(pkg), file), join(to, base(file)));
  }
  console.log(`copied ${RENDERERS.map(({ pkg }) => `${pkg} ${versionOf(pkg)}`).join(" and ")} to public/docs-assets/`);
}
