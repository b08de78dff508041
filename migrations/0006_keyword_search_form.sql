ALTER TABLE "chunks" ADD COLUMN "search_text" text;--> statement-breakpoint
ALTER TABLE "chunks" ADD COLUMN "search_version" smallint;--> statement-breakpoint
ALTER TABLE "chunks" ADD COLUMN "search_tsv" "tsvector" GENERATED ALWAYS AS (to_tsvector('english', "search_text")) STORED;--> statement-breakpoint
CREATE INDEX "chunks_search_tsv_idx" ON "chunks" USING gin ("search_tsv");--> statement-breakpoint
CREATE INDEX "chunks_search_version_idx" ON "chunks" USING btree ("search_version");