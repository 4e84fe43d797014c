import type { RunnerConfig } from '../../config.ts';
import type { Db } from '../../db/client.ts';
import type { AppEvents } from '../../events/topics.ts';
import type { Logger } from '../../logger.ts';
import type { ModelPredictor } from '../predict/model-predictor.ts';
import { createCommandTrainer } from '../trainers/command/command-trainer.ts';
import { builtinTrainer, type Trainer } from '../trainers/port.ts';
import { createRunner, type Runner } from './runner.ts';

/** The trainer TRAINER asks for. */
export function chooseTrainer(
  config: Pick<RunnerConfig, 'trainer' | 'trainerCommand'>,
  logger?: Logger,
): Trainer {
  if (config.trainer === 'command') {
    if (!config.trainerCommand) throw new Error('TRAINER=command needs TRAINER_COMMAND');
    return createCommandTrainer({ command: config.trainerCommand, logger });
  }
  return builtinTrainer;
}

/** This process's runner, as configured (WORKER=false: none). */
export function startRunner(
  config: RunnerConfig,
  deps: {
    db: Db;
    events: AppEvents;
    logger: Logger;
    /** The process's model predictor (the app's); left out: built-in models only. */
    predictor?: ModelPredictor;
  },
): Runner | null {
  if (!config.enabled) return null;
  return createRunner({ ...deps, ...config, trainer: chooseTrainer(config, deps.logger) });
}
