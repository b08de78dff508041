// Direct looks into the real database behind the Worker (through the Neon stand-in), for assertions only.
import { env } from "cloudflare:workers";
import { getConfig } from "../../src/config.ts";
import { createDb } from "../../src/db/client.ts";

export const sql = () => createDb(getConfig(env as never)).$client;

export async function count(query: string, params: unknown[]): Promise<number> {
  const [row] = await sql().query(`select count(*)::int as n from (${query}) q`, params);
  return (row as { n: number }).n;
}
