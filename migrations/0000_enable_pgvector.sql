-- Hand-written: pgvector must exist before the first table with a vector column.
CREATE EXTENSION IF NOT EXISTS vector;
