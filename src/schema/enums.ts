import { ACTIVATION_POLICIES, MODEL_TYPES, TRAINING_STATUSES } from '../vocabulary/training.ts';
import { builder } from './builder.ts';

export const TrainingStatusEnum = builder.enumType('TrainingStatus', {
  description:
    'Where a job is in its life: QUEUED → PREPARING → TRAINING → VALIDATING → COMPLETED; PAUSED, FAILED and CANCELLED on the side. COMPLETED, FAILED and CANCELLED are terminal.',
  values: TRAINING_STATUSES,
});

export const ModelTypeEnum = builder.enumType('ModelType', {
  description: 'What a model is trained for: report cards (ZEUGNIS), exams (KLAUSUR), or general.',
  values: MODEL_TYPES,
});

export const ActivationPolicyEnum = builder.enumType('ActivationPolicy', {
  description:
    'When a completed version becomes active: ALWAYS; IF_BETTER (it beats the majority-class baseline by 0.05 macro-F1 and the active version on its own validation split); MANUAL (never by itself).',
  values: ACTIVATION_POLICIES,
});
