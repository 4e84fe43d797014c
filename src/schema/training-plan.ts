import type { TrainingPlan } from '../vocabulary/evaluation.ts';
import { builder } from './builder.ts';

const PlanWarning = builder.objectRef<TrainingPlan['warnings'][number]>('PlanWarning').implement({
  description:
    'Something about a planned run worth knowing before it starts. Codes: WARMUP_EXCEEDS_RUN, FEW_STEPS (< 50 optimizer steps), TINY_VALIDATION (< 10 validation examples, or a label with none), IMBALANCED_LABELS (largest/smallest label count > 10).',
  fields: (t) => ({
    code: t.exposeString('code'),
    message: t.exposeString('message'),
  }),
});

const LabelCount = builder.objectRef<TrainingPlan['labels'][number]>('LabelCount').implement({
  description: 'How many examples of one label (document type) a run has.',
  fields: (t) => ({ label: t.exposeString('label'), count: t.exposeInt('count') }),
});

export const TrainingPlanRef = builder.objectRef<TrainingPlan>('TrainingPlan').implement({
  description:
    'What a job with a configuration would do on the current data: its data, split, steps and resolved settings (docs/training.md).',
  fields: (t) => ({
    documents: t.exposeInt('documents', {
      description: 'Training-allowed documents of the chosen states.',
    }),
    examples: t.exposeInt('examples', { description: 'Their chunks: the labelled examples.' }),
    trainExamples: t.exposeInt('trainExamples'),
    validationExamples: t.exposeInt('validationExamples', {
      description: "Held out by the trainer's stratified split (15 % of each label).",
    }),
    labels: t.field({
      type: [LabelCount],
      description: 'Examples per label, most common first.',
      resolve: (p) => p.labels,
    }),
    stepsPerEpoch: t.exposeInt('stepsPerEpoch'),
    totalSteps: t.exposeInt('totalSteps'),
    warmupSteps: t.exposeInt('warmupSteps', { description: 'Resolved: given or recommended.' }),
    learningRate: t.exposeFloat('learningRate', {
      description: 'Resolved peak learning rate: given or recommended.',
    }),
    estimatedDurationMs: t.exposeInt('estimatedDurationMs', {
      nullable: true,
      description:
        'From the measured step rate of recent completed runs; null when there are none.',
    }),
    warnings: t.field({ type: [PlanWarning], resolve: (p) => p.warnings }),
  }),
});
