// CSV as RFC 4180 writes it (CRLF lines; a field with a comma, quote or line break quoted, its quotes doubled), safe
// to open in a spreadsheet: a cell that starts with = + - @ (or a tab or CR) would be run as a formula, so it gets a
// leading apostrophe (OWASP's advice against CSV injection). An email address can start with + or -.
const FORMULA_START = /^[=+\-@\t\r]/;

function cell(value: string | number | null): string {
  if (value === null) return "";
  let text = String(value);
  if (typeof value === "string" && FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export const toCsv = (header: string[], rows: Array<Array<string | number | null>>) =>
  [header, ...rows].map((row) => `${row.map(cell).join(",")}\r\n`).join("");
