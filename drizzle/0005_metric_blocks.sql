CREATE TABLE "metric_blocks" (
	"job_id" uuid NOT NULL,
	"block" integer NOT NULL,
	"first_step" integer NOT NULL,
	"last_step" integer NOT NULL,
	"validations" integer NOT NULL,
	"min_loss" double precision[],
	"max_loss" double precision[],
	"min_val_loss" double precision[],
	"max_val_loss" double precision[],
	CONSTRAINT "metric_blocks_job_id_block_pk" PRIMARY KEY("job_id","block")
);
--> statement-breakpoint
ALTER TABLE "metric_blocks" ADD CONSTRAINT "metric_blocks_job_id_training_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."training_jobs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "metric_points_validation_idx" ON "metric_points" USING btree ("job_id","step") WHERE "metric_points"."val_loss" is not null;--> statement-breakpoint
-- Recomputes the given blocks (job_ids[i], blocks[i]) from their points: the one place that
-- says what a block holds. A block left without points goes.
CREATE FUNCTION "refresh_metric_blocks"("job_ids" uuid[], "blocks" integer[]) RETURNS void
LANGUAGE sql AS $$
	INSERT INTO "metric_blocks" ("job_id", "block", "first_step", "last_step", "validations", "min_loss", "max_loss", "min_val_loss", "max_val_loss")
	SELECT t.job_id, t.block, min(p.step), max(p.step), count(p.val_loss),
		min(array[p.loss, p.step]) FILTER (WHERE p.loss IS NOT NULL),
		max(array[p.loss, p.step]) FILTER (WHERE p.loss IS NOT NULL),
		min(array[p.val_loss, p.step]) FILTER (WHERE p.val_loss IS NOT NULL),
		max(array[p.val_loss, p.step]) FILTER (WHERE p.val_loss IS NOT NULL)
	FROM unnest(job_ids, blocks) AS t(job_id, block)
	JOIN "metric_points" p ON p.job_id = t.job_id AND p.step BETWEEN t.block << 5 AND (t.block << 5) + 31
	GROUP BY t.job_id, t.block
	ON CONFLICT ("job_id", "block") DO UPDATE SET
		"first_step" = excluded.first_step, "last_step" = excluded.last_step, "validations" = excluded.validations,
		"min_loss" = excluded.min_loss, "max_loss" = excluded.max_loss,
		"min_val_loss" = excluded.min_val_loss, "max_val_loss" = excluded.max_val_loss;
	DELETE FROM "metric_blocks" b
	USING unnest(job_ids, blocks) AS t(job_id, block)
	WHERE b.job_id = t.job_id AND b.block = t.block AND NOT EXISTS (
		SELECT FROM "metric_points" p
		WHERE p.job_id = t.job_id AND p.step BETWEEN t.block << 5 AND (t.block << 5) + 31);
$$;
--> statement-breakpoint
-- Runs once per statement that writes points, inside it: blocks and points commit or roll back
-- together. The transition tables name the points the statement wrote or removed.
CREATE FUNCTION "metric_points_refresh_blocks"() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	job_ids uuid[];
	blocks integer[];
BEGIN
	IF TG_OP = 'INSERT' THEN
		SELECT array_agg(job_id), array_agg(block) INTO job_ids, blocks
		FROM (SELECT DISTINCT job_id, step >> 5 AS block FROM new_points) t;
	ELSIF TG_OP = 'DELETE' THEN
		SELECT array_agg(job_id), array_agg(block) INTO job_ids, blocks
		FROM (SELECT DISTINCT job_id, step >> 5 AS block FROM old_points) t;
	ELSE
		SELECT array_agg(job_id), array_agg(block) INTO job_ids, blocks
		FROM (SELECT job_id, step >> 5 AS block FROM new_points
			UNION SELECT job_id, step >> 5 FROM old_points) t;
	END IF;
	IF job_ids IS NOT NULL THEN
		PERFORM refresh_metric_blocks(job_ids, blocks);
	END IF;
	RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "metric_points_inserted" AFTER INSERT ON "metric_points"
REFERENCING NEW TABLE AS new_points FOR EACH STATEMENT EXECUTE FUNCTION metric_points_refresh_blocks();
--> statement-breakpoint
CREATE TRIGGER "metric_points_updated" AFTER UPDATE ON "metric_points"
REFERENCING OLD TABLE AS old_points NEW TABLE AS new_points FOR EACH STATEMENT EXECUTE FUNCTION metric_points_refresh_blocks();
--> statement-breakpoint
CREATE TRIGGER "metric_points_deleted" AFTER DELETE ON "metric_points"
REFERENCING OLD TABLE AS old_points FOR EACH STATEMENT EXECUTE FUNCTION metric_points_refresh_blocks();
--> statement-breakpoint
-- The points recorded before this migration.
SELECT refresh_metric_blocks(array_agg(job_id), array_agg(block))
FROM (SELECT DISTINCT job_id, step >> 5 AS block FROM "metric_points") t;
