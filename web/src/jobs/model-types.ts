import type { ResultOf } from '../graphql.ts';
import { graphql } from '../graphql.ts';

const ModelTypeOf = graphql(`
  fragment ModelTypeOf on TrainingJob {
    modelType
  }
`);
export type ModelType = ResultOf<typeof ModelTypeOf>['modelType'];

/** Every model type of the schema, with what it is for (a Record, so none can be missing). */
export const MODEL_TYPES: Record<ModelType, string> = {
  ZEUGNIS: 'Report cards',
  KLAUSUR: 'Exams',
  GENERAL: 'General',
};
export const MODEL_TYPE_LIST = Object.keys(MODEL_TYPES) as ModelType[];
