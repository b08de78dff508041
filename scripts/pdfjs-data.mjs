// Copies pdf.js's CMaps and standard fonts from node_modules/pdfjs-dist to public/pdfjs/, where the Worker
// reads them through its ASSETS binding (src/pdf/resources.ts). The copies are committed, so `npm ci` and
// `wrangler deploy` need nothing from this script; run it after upgrading unpdf (and pdfjs-dist with it):
//   node scripts/pdfjs-data.mjs          copy (replaces public/pdfjs/cmaps and public/pdfjs/standard_fonts)
//   node scripts/pdfjs-data.mjs --check  exit 1 when the copies differ from pdfjs-dist or its version is not unpdf's
// Plain .mjs (no type stripping) so it runs on any Node that npm runs on.
import { cpSync, existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(join(root, "package.json"));
const pdfjsDir = dirname(require.resolve("pdfjs-dist/package.json"));
const pdfjsVersion = JSON.parse(readFileSync(join(pdfjsDir, "package.json"), "utf8")).version;
// The data must come from the pdf.js build that unpdf bundles: the version is in that bundle's getDocument.
const bundle = readFileSync(join(dirname(require.resolve("unpdf")), "pdfjs.mjs"), "utf8");
const unpdfPdfjsVersion = /apiVersion:`([0-9.]+)`/.exec(bundle)?.[1];
const FOLDERS = ["cmaps", "standard_fonts"];
const target = join(root, "public", "pdfjs");

if (pdfjsVersion !== unpdfPdfjsVersion) {
  console.error(`pdfjs-dist is ${pdfjsVersion} but unpdf bundles pdf.js ${unpdfPdfjsVersion}: install pdfjs-dist@${unpdfPdfjsVersion} (exact)`);
  process.exit(1);
}

if (process.argv.includes("--check")) {
  const differences = [];
  for (const folder of FOLDERS) {
    const from = join(pdfjsDir, folder);
    const to = join(target, folder);
    const expected = readdirSync(from).sort();
    const actual = existsSync(to) ? readdirSync(to).sort() : [];
    for (const name of new Set([...expected, ...actual])) {
      if (!expected.includes(name)) differences.push(`extra ${folder}/${name}`);
      else if (!actual.includes(name)) differences.push(`missing ${folder}/${name}`);
      else if (!readFileSync(join(from, name)).equals(readFileSync(join(to, name)))) differences.push(`changed ${folder}/${name}`);
    }
  }
  if (differences.length) {
    console.error(`public/pdfjs differs from pdfjs-dist ${pdfjsVersion}:\n  ${differences.join("\n  ")}\nRun: node scripts/pdfjs-data.mjs`);
    process.exit(1);
  }
  console.log(`public/pdfjs matches pdfjs-dist ${pdfjsVersion} (the pdf.js that unpdf bundles)`);
} else {
  for (const folder of FOLDERS) {
    rmSync(join(target, folder), { recursive: true, force: true });
    cpSync(join(pdfjsDir, folder), join(target, folder), { recursive: true });
  }
  console.log(`copied ${FOLDERS.join(", ")} of pdfjs-dist ${pdfjsVersion} to public/pdfjs/`);
}
