import { graphql } from '../graphql.ts';

/** What a row of the jobs table shows; the row's live updates select the same. */
export const JobRowFields = graphql(`
  fragment JobRowFields on TrainingJob {
    id
    name
    modelType
    status
    progress
    currentStep
    totalSteps
    loss
    valLoss
    queuePosition
    createdAt
  }
`);
