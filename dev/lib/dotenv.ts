// The KEY=value format of .dev.vars / .env files (quoted values, comments), enough for Worker variables.
export function parseDotenv(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const match = line.match(/^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/);
    if (!match) continue;
    let value = match[2]!;
    const quoted = value.match(/^(["'])(.*)\1$/);
    value = quoted ? (quoted[1] === '"' ? quoted[2]!.replace(/\\n/g, "\n").replace(/\\"/g, '"') : quoted[2]!) : value.replace(/\s+#.*$/, "");
    vars[match[1]!] = value;
  }
  return vars;
}

export function toDotenv(vars: Record<string, string>): string {
  return `${Object.entries(vars)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join("\n")}\n`;
}
