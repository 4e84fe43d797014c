CREATE TABLE "metric_points" (
	"job_id" uuid NOT NULL,
	"step" integer NOT NULL,
	"epoch" integer NOT NULL,
	"loss" double precision,
	"val_loss" double precision,
	"learning_rate" double precision NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "metric_points_job_id_step_pk" PRIMARY KEY("job_id","step")
);
--> statement-breakpoint
CREATE TABLE "model_versions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"seq" bigint GENERATED ALWAYS AS IDENTITY (sequence name "model_versions_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"job_id" uuid,
	"model_type" text NOT NULL,
	"version_number" integer NOT NULL,
	"is_active" boolean DEFAULT false NOT NULL,
	"metrics" jsonb NOT NULL,
	"config" jsonb NOT NULL,
	"bundeslaender" text[] NOT NULL,
	"dataset_stats" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"artifact_bytes" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "model_versions_model_type_check" CHECK ("model_versions"."model_type" IN ('ZEUGNIS', 'KLAUSUR', 'GENERAL')),
	CONSTRAINT "model_versions_version_check" CHECK ("model_versions"."version_number" >= 1)
);
--> statement-breakpoint
CREATE TABLE "training_jobs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"seq" bigint GENERATED ALWAYS AS IDENTITY (sequence name "training_jobs_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"name" text NOT NULL,
	"model_type" text NOT NULL,
	"status" text DEFAULT 'QUEUED' NOT NULL,
	"bundeslaender" text[] NOT NULL,
	"batch_size" integer NOT NULL,
	"learning_rate" double precision NOT NULL,
	"epochs" integer NOT NULL,
	"warmup_steps" integer NOT NULL,
	"weight_decay" double precision NOT NULL,
	"gradient_accumulation" integer NOT NULL,
	"mixed_precision" boolean NOT NULL,
	"seed" integer NOT NULL,
	"progress" real DEFAULT 0 NOT NULL,
	"current_epoch" integer DEFAULT 0 NOT NULL,
	"current_step" integer DEFAULT 0 NOT NULL,
	"total_steps" integer DEFAULT 0 NOT NULL,
	"loss" double precision,
	"val_loss" double precision,
	"current_learning_rate" double precision DEFAULT 0 NOT NULL,
	"documents_processed" integer DEFAULT 0 NOT NULL,
	"total_documents" integer DEFAULT 0 NOT NULL,
	"precision" double precision DEFAULT 0 NOT NULL,
	"recall" double precision DEFAULT 0 NOT NULL,
	"f1_score" double precision DEFAULT 0 NOT NULL,
	"accuracy" double precision DEFAULT 0 NOT NULL,
	"error_message" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"estimated_completion" timestamp with time zone,
	"completed_at" timestamp with time zone,
	"lease_owner" text,
	"lease_expires_at" timestamp with time zone,
	CONSTRAINT "training_jobs_status_check" CHECK ("training_jobs"."status" IN ('QUEUED', 'PREPARING', 'TRAINING', 'VALIDATING', 'COMPLETED', 'FAILED', 'PAUSED', 'CANCELLED')),
	CONSTRAINT "training_jobs_model_type_check" CHECK ("training_jobs"."model_type" IN ('ZEUGNIS', 'KLAUSUR', 'GENERAL')),
	CONSTRAINT "training_jobs_name_check" CHECK (char_length("training_jobs"."name") BETWEEN 1 AND 200),
	CONSTRAINT "training_jobs_bundeslaender_check" CHECK (cardinality("training_jobs"."bundeslaender") BETWEEN 1 AND 16 AND "training_jobs"."bundeslaender" <@ ARRAY['BW', 'BY', 'BE', 'BB', 'HB', 'HH', 'HE', 'MV', 'NI', 'NW', 'RP', 'SL', 'SN', 'ST', 'SH', 'TH']::text[]),
	CONSTRAINT "training_jobs_batch_size_check" CHECK ("batch_size" BETWEEN 1 AND 128),
	CONSTRAINT "training_jobs_learning_rate_check" CHECK ("learning_rate" BETWEEN 0.000001 AND 0.1),
	CONSTRAINT "training_jobs_epochs_check" CHECK ("epochs" BETWEEN 1 AND 100),
	CONSTRAINT "training_jobs_warmup_steps_check" CHECK ("warmup_steps" BETWEEN 0 AND 10000),
	CONSTRAINT "training_jobs_weight_decay_check" CHECK ("weight_decay" BETWEEN 0 AND 1),
	CONSTRAINT "training_jobs_gradient_accumulation_check" CHECK ("gradient_accumulation" BETWEEN 1 AND 32),
	CONSTRAINT "training_jobs_seed_check" CHECK ("seed" BETWEEN 0 AND 2147483647),
	CONSTRAINT "training_jobs_progress_check" CHECK ("training_jobs"."progress" BETWEEN 0 AND 100)
);
--> statement-breakpoint
ALTER TABLE "metric_points" ADD CONSTRAINT "metric_points_job_id_training_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."training_jobs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "model_versions" ADD CONSTRAINT "model_versions_job_id_training_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."training_jobs"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "model_versions_type_version_uq" ON "model_versions" USING btree ("model_type","version_number");--> statement-breakpoint
CREATE UNIQUE INDEX "model_versions_one_active_per_type_uq" ON "model_versions" USING btree ("model_type") WHERE "model_versions"."is_active";--> statement-breakpoint
CREATE UNIQUE INDEX "model_versions_job_uq" ON "model_versions" USING btree ("job_id");--> statement-breakpoint
CREATE UNIQUE INDEX "model_versions_seq_uq" ON "model_versions" USING btree ("seq");--> statement-breakpoint
CREATE UNIQUE INDEX "training_jobs_seq_uq" ON "training_jobs" USING btree ("seq");--> statement-breakpoint
CREATE INDEX "training_jobs_status_idx" ON "training_jobs" USING btree ("status","created_at");