CREATE TABLE "ocr_batches" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"seq" bigint GENERATED ALWAYS AS IDENTITY (sequence name "ocr_batches_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"status" text DEFAULT 'PENDING' NOT NULL,
	"language" text NOT NULL,
	"total" integer NOT NULL,
	"processed" integer DEFAULT 0 NOT NULL,
	"failed" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	CONSTRAINT "ocr_batches_status_check" CHECK ("ocr_batches"."status" IN ('PENDING', 'PROCESSING', 'COMPLETED')),
	CONSTRAINT "ocr_batches_language_check" CHECK ("ocr_batches"."language" IN ('deu', 'eng', 'deu+eng')),
	CONSTRAINT "ocr_batches_total_check" CHECK ("ocr_batches"."total" BETWEEN 1 AND 100),
	CONSTRAINT "ocr_batches_processed_check" CHECK ("ocr_batches"."processed" BETWEEN 0 AND "ocr_batches"."total" AND "ocr_batches"."failed" BETWEEN 0 AND "ocr_batches"."processed")
);
--> statement-breakpoint
CREATE TABLE "ocr_cache" (
	"sha256" text NOT NULL,
	"language" text NOT NULL,
	"engine_version" text NOT NULL,
	"text" text NOT NULL,
	"confidence" double precision NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ocr_cache_sha256_language_engine_version_pk" PRIMARY KEY("sha256","language","engine_version")
);
--> statement-breakpoint
CREATE TABLE "ocr_results" (
	"batch_id" uuid NOT NULL,
	"index" integer NOT NULL,
	"filename" text,
	"image_type" text,
	"byte_size" integer NOT NULL,
	"sha256" text NOT NULL,
	"image" "bytea",
	"position" integer,
	"text" text,
	"confidence" double precision,
	"processing_time_ms" integer,
	"from_cache" boolean DEFAULT false NOT NULL,
	"error" text,
	"completed_at" timestamp with time zone,
	CONSTRAINT "ocr_results_batch_id_index_pk" PRIMARY KEY("batch_id","index"),
	CONSTRAINT "ocr_results_image_type_check" CHECK ("ocr_results"."image_type" IN ('png', 'jpeg', 'tiff', 'bmp', 'webp')),
	CONSTRAINT "ocr_results_image_check" CHECK ("ocr_results"."image" IS NULL OR "ocr_results"."completed_at" IS NULL),
	CONSTRAINT "ocr_results_done_check" CHECK (("ocr_results"."completed_at" IS NULL) = ("ocr_results"."position" IS NULL) AND ("ocr_results"."completed_at" IS NULL) = ("ocr_results"."processing_time_ms" IS NULL))
);
--> statement-breakpoint
ALTER TABLE "ocr_results" ADD CONSTRAINT "ocr_results_batch_id_ocr_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."ocr_batches"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "ocr_batches_seq_uq" ON "ocr_batches" USING btree ("seq");--> statement-breakpoint
CREATE INDEX "ocr_batches_unfinished_idx" ON "ocr_batches" USING btree ("seq") WHERE "ocr_batches"."status" <> 'COMPLETED';