// drizzle-kit's configuration for `npm run db:studio`: the project's, plus the database scripts/db-studio.ts resolved.
import { defineConfig } from "drizzle-kit";
import base from "../drizzle.config.ts";

export default defineConfig({ ...base, dbCredentials: { url: process.env.DATABASE_URL! } });
