// Plain JavaScript on purpose: it must run on any Node, so that an old one prints one clear sentence
// instead of dying on the first `.ts` file (ERR_UNKNOWN_FILE_EXTENSION). Every script that runs .ts starts here.
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  console.error(
    `DocuChat needs Node 22.18 or newer (24 recommended, see .nvmrc) to run its TypeScript tools, and this is ${process.version}: ` +
      "install it with `nvm install` (reads .nvmrc) or from https://nodejs.org, then run the command again.",
  );
  process.exit(1);
}
