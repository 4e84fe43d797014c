/** One labelled training chunk: its text and its document type (e.g. `verordnung`). */
export type Example = { text: string; label: string };

/** The hyperparameters of a training job, as the API validates them. */
export type TrainerConfig = {
  batchSize: number;
  learningRate: number;
  epochs: number;
  warmupSteps: number;
  weightDecay: number;
  gradientAccumulation: number;
  /** Recorded only: the CPU trainer always computes in fp32. */
  mixedPrecision: boolean;
  seed: number;
};

/** How text becomes a feature vector; stored in the artifact so inference matches training. */
export type FeatureConfig = {
  /** Number of hash buckets (feature-hashing dimension). */
  buckets: number;
  /** Longest word n-gram: 1 = unigrams, 2 = unigrams + bigrams. */
  maxNgram: number;
};

export type EvalMetrics = {
  valLoss: number;
  precision: number;
  recall: number;
  f1: number;
  accuracy: number;
};

export type TrainerEvent =
  | {
      type: 'prepared';
      totalSteps: number;
      stepsPerEpoch: number;
      trainSize: number;
      validationSize: number;
      labels: string[];
      /** What the weights are computed in (the built-in trainer: always fp32). */
      precision: 'fp32' | 'fp16' | 'bf16';
      /** Optimizer steps already done (0 unless resumed from a checkpoint). */
      resumedFromStep: number;
      note?: string;
      /** Which examples (0-based) the trainer validates on; left out: the built-in split. */
      validationIndices?: number[];
    }
  | {
      type: 'step';
      step: number;
      epoch: number;
      loss: number;
      learningRate: number;
      examplesSeen: number;
    }
  | ({ type: 'eval'; step: number; epoch: number; final: boolean } & EvalMetrics)
  | { type: 'checkpoint'; step: number; epoch: number; state: Uint8Array }
  | { type: 'done'; artifact: Uint8Array; metrics: EvalMetrics };

export type TrainingRunOptions = {
  examples: readonly Example[];
  config: TrainerConfig;
  /** A `checkpoint` event's state to continue from; must come from the same examples and config. */
  checkpoint?: Uint8Array;
  /** Emit a checkpoint every this many optimizer steps (0 or absent: only on request). */
  checkpointEvery?: number;
  /** Share of each class held out for validation. Default 0.15. */
  validationFraction?: number;
  features?: Partial<FeatureConfig>;
};
