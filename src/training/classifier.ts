import { and, eq } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { type ModelVersionRow, modelArtifacts, modelVersions } from '../db/schema.ts';
import { AppError, badInput, ErrorCode } from '../vocabulary/errors.ts';
import type { ModelType } from '../vocabulary/training.ts';
import { type ModelPredictor, PredictMissingError } from './predict/model-predictor.ts';
import type { Classification } from './trainers/builtin/index.ts';

export type ClassificationResult = Classification & { modelVersion: ModelVersionRow };

const MAX_TEXT_LENGTH = 100_000;

/**
 * Classifies text with the active version of a model type: a built-in model in this process, a
 * command trainer's through its model process. Artifacts are kept per version (a version's
 * artifact never changes; the trainer keeps its decoded model), so only the small version row
 * is read per call.
 */
export function createClassifier(db: Db, predictor: ModelPredictor) {
  const artifacts = new Map<string, Promise<Uint8Array>>();

  const artifactOf = (version: ModelVersionRow) => {
    let artifact = artifacts.get(version.id);
    if (!artifact) {
      artifact = (async () => {
        const [row] = await db
          .select({ data: modelArtifacts.data })
          .from(modelArtifacts)
          .where(eq(modelArtifacts.modelVersionId, version.id));
        if (!row)
          throw new AppError(
            ErrorCode.NOT_FOUND,
            `Model version ${version.id} has no stored artifact`,
          );
        return row.data;
      })();
      artifact.catch(() => artifacts.delete(version.id));
      artifacts.set(version.id, artifact);
    }
    return artifact;
  };

  return async (text: string, modelType: ModelType): Promise<ClassificationResult> => {
    if (text.trim().length === 0) throw badInput('text', 'text must not be empty');
    if (text.length > MAX_TEXT_LENGTH) {
      throw badInput('text', `text must be at most ${MAX_TEXT_LENGTH} characters`);
    }
    const [version] = await db
      .select()
      .from(modelVersions)
      .where(and(eq(modelVersions.modelType, modelType), eq(modelVersions.isActive, true)));
    if (!version) {
      throw new AppError(
        ErrorCode.NOT_FOUND,
        `No active ${modelType} model: train one (createTrainingJob) or activate a version (activateModelVersion)`,
      );
    }
    const artifact = await artifactOf(version);
    try {
      const [classification] = await predictor.predict({ id: version.id, artifact }, [text]);
      return { ...(classification as Classification), modelVersion: version };
    } catch (error) {
      if (!(error instanceof PredictMissingError)) throw error;
      throw badInput(
        'modelType',
        `The active ${modelType} version was trained by a command trainer, and nothing can run it: ${error.message}. Set PREDICT_COMMAND to a command with a predict mode (docs/trainer-command.md)`,
      );
    }
  };
}
