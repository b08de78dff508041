/** An ILIKE pattern matching `text` anywhere, its LIKE wildcards (%, _) and the escape character taken literally. */
export const containsPattern = (text: string) => `%${text.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
