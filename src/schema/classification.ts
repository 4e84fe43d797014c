import { builder } from './builder.ts';
import { ModelTypeEnum } from './enums.ts';
import { ModelVersionRef } from './refs.ts';

const LabelProbability = builder
  .objectRef<{ label: string; probability: number }>('LabelProbability')
  .implement({
    description: 'A label and how likely the model finds it.',
    fields: (t) => ({
      label: t.exposeString('label'),
      probability: t.exposeFloat('probability', { description: '0..1; all labels sum to 1.' }),
    }),
  });

const Classification = builder
  .objectRef<{
    label: string;
    probabilities: { label: string; probability: number }[];
    modelVersion: typeof ModelVersionRef.$inferType;
  }>('Classification')
  .implement({
    description: 'What a trained model predicts for a text.',
    fields: (t) => ({
      label: t.exposeString('label', { description: 'The most likely document type.' }),
      probabilities: t.field({
        type: [LabelProbability],
        description: 'Every label, most likely first.',
        resolve: (c) => c.probabilities,
      }),
      modelVersion: t.field({
        type: ModelVersionRef,
        description: 'The version that answered.',
        resolve: (c) => c.modelVersion,
      }),
    }),
  });

builder.queryFields((t) => ({
  classify: t.field({
    type: Classification,
    authScopes: { viewer: true },
    description:
      'Classifies a text with the active version of a model type (NOT_FOUND when the type has none).',
    args: {
      text: t.arg.string({ required: true }),
      modelType: t.arg({ type: ModelTypeEnum, defaultValue: 'ZEUGNIS', required: true }),
    },
    resolve: (_root, { text, modelType }, ctx) => ctx.training.classify(text, modelType),
  }),
}));
