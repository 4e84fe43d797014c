CREATE TABLE "model_activations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"seq" bigint GENERATED ALWAYS AS IDENTITY (sequence name "model_activations_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"model_type" text NOT NULL,
	"version_id" uuid NOT NULL,
	"previous_version_id" uuid,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"by" text NOT NULL,
	"reason" text NOT NULL,
	CONSTRAINT "model_activations_reason_check" CHECK ("model_activations"."reason" IN ('AUTO_ALWAYS', 'AUTO_IF_BETTER', 'MANUAL', 'ROLLBACK'))
);
--> statement-breakpoint
ALTER TABLE "model_versions" ADD COLUMN "evaluation" jsonb;--> statement-breakpoint
ALTER TABLE "training_jobs" ADD COLUMN "activation" text DEFAULT 'IF_BETTER' NOT NULL;--> statement-breakpoint
ALTER TABLE "training_jobs" ADD COLUMN "defaults_applied" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "training_jobs" ADD COLUMN "plan" jsonb;--> statement-breakpoint
ALTER TABLE "training_jobs" ADD COLUMN "evaluation_report" jsonb;--> statement-breakpoint
CREATE UNIQUE INDEX "model_activations_seq_uq" ON "model_activations" USING btree ("seq");--> statement-breakpoint
CREATE INDEX "model_activations_type_seq_idx" ON "model_activations" USING btree ("model_type","seq");--> statement-breakpoint
ALTER TABLE "training_jobs" ADD CONSTRAINT "training_jobs_activation_check" CHECK ("training_jobs"."activation" IN ('ALWAYS', 'IF_BETTER', 'MANUAL'));