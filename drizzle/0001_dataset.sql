CREATE TABLE "chunks" (
	"document_id" uuid NOT NULL,
	"index" integer NOT NULL,
	"text" text NOT NULL,
	"word_count" integer NOT NULL,
	CONSTRAINT "chunks_document_id_index_pk" PRIMARY KEY("document_id","index"),
	CONSTRAINT "chunks_word_count_check" CHECK ("chunks"."word_count" >= 1)
);
--> statement-breakpoint
CREATE TABLE "documents" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"seq" bigint GENERATED ALWAYS AS IDENTITY (sequence name "documents_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"title" text NOT NULL,
	"text" text NOT NULL,
	"bundesland" text NOT NULL,
	"doc_type" text NOT NULL,
	"training_allowed" boolean NOT NULL,
	"source" text,
	"content_hash" text NOT NULL,
	"chunk_count" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "documents_bundesland_check" CHECK ("documents"."bundesland" IN ('BW', 'BY', 'BE', 'BB', 'HB', 'HH', 'HE', 'MV', 'NI', 'NW', 'RP', 'SL', 'SN', 'ST', 'SH', 'TH')),
	CONSTRAINT "documents_doc_type_check" CHECK ("documents"."doc_type" IN ('verordnung', 'schulordnung', 'handreichung', 'erlass')),
	CONSTRAINT "documents_chunk_count_check" CHECK ("documents"."chunk_count" >= 1)
);
--> statement-breakpoint
ALTER TABLE "chunks" ADD CONSTRAINT "chunks_document_id_documents_id_fk" FOREIGN KEY ("document_id") REFERENCES "public"."documents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "documents_seq_uq" ON "documents" USING btree ("seq");--> statement-breakpoint
CREATE UNIQUE INDEX "documents_content_hash_uq" ON "documents" USING btree ("content_hash");--> statement-breakpoint
CREATE INDEX "documents_bundesland_doc_type_idx" ON "documents" USING btree ("bundesland","doc_type");