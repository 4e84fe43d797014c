-- Checkpoints and model artifacts are float weights, which pglz does not shrink: storing them
-- uncompressed (still out of line) spares each write a failed compression attempt of several MB,
-- which on the embedded database runs on the thread that serves the API.
ALTER TABLE "checkpoints" ALTER COLUMN "state" SET STORAGE EXTERNAL;--> statement-breakpoint
ALTER TABLE "model_artifacts" ALTER COLUMN "data" SET STORAGE EXTERNAL;
