import type { PredictConfig } from '../../config.ts';
import type { Logger } from '../../logger.ts';
import { type Classification, classify, isBuiltinArtifact } from '../trainers/builtin/index.ts';
import { describeCommand } from '../trainers/command/describe.ts';
import { PredictPool, type ServedModel } from './pool.ts';

/** No command can serve a model that is not the built-in trainer's. */
export class PredictMissingError extends Error {}

/** Classifications by any stored model, built-in or made by a command trainer. */
export type ModelPredictor = {
  /** The model's classification of each text, in order. */
  predict(model: ServedModel, texts: readonly string[]): Promise<Classification[]>;
  /** The process serving model `from` serves as `to` from now on. */
  rename(from: string, to: string): void;
  /** Stops the model processes. */
  close(): Promise<void>;
};

/**
 * Built-in artifacts are run in this process; every other one by a model process of the pool,
 * whose command is PREDICT_COMMAND or else TRAINER_COMMAND (unless its describe answer says it
 * has no predict mode). Without a config, by none.
 */
export function createModelPredictor(
  config: PredictConfig | null,
  options: { trainerCommand?: string; logger?: Logger } = {},
): ModelPredictor {
  let pool: Promise<PredictPool> | null = null;
  let closed = false;

  const poolFor = async (): Promise<PredictPool> => {
    const { trainerCommand, logger } = options;
    if (!config) throw new PredictMissingError('this process runs built-in models only');
    if (config.command) return new PredictPool({ ...config, command: config.command, logger });
    if (!trainerCommand) {
      throw new PredictMissingError('neither PREDICT_COMMAND nor TRAINER_COMMAND is set');
    }
    const description = await describeCommand(trainerCommand, { logger });
    if (description.predict === false) {
      throw new PredictMissingError(
        'TRAINER_COMMAND has no predict mode (its describe answer says "predict": false) and PREDICT_COMMAND is not set',
      );
    }
    return new PredictPool({ ...config, command: trainerCommand, logger });
  };

  return {
    async predict(model, texts) {
      if (isBuiltinArtifact(model.artifact))
        return texts.map((text) => classify(model.artifact, text));
      if (closed) throw new Error('the model predictor is shut down');
      if (!pool) {
        pool = poolFor();
        // Asked again next time: cheap, since the describe answer is cached.
        pool.catch(() => {
          pool = null;
        });
      }
      return (await pool).predict(model, texts);
    },
    rename(from, to) {
      void pool?.then(
        (p) => p.rename(from, to),
        () => {},
      );
    },
    async close() {
      closed = true;
      const current = pool;
      pool = null;
      await current?.then(
        (p) => p.close(),
        () => {},
      );
    },
  };
}

/** A predictor without model processes: built-in models only. */
export const builtinModelPredictor = (): ModelPredictor => createModelPredictor(null);
