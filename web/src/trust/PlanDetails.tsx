import { Fact } from '../components/common.tsx';
import { formatCount, formatDuration, formatRate } from '../format.ts';
import { graphql, type ResultOf } from '../graphql.ts';

/** What `trainingPlan(input)` and a job's stored `plan` tell about a run. */
export const PlanFields = graphql(`
  fragment PlanFields on TrainingPlan {
    documents
    examples
    trainExamples
    validationExamples
    labels {
      label
      count
    }
    stepsPerEpoch
    totalSteps
    warmupSteps
    learningRate
    estimatedDurationMs
    warnings {
      code
      message
    }
  }
`);

export type TrainingPlan = ResultOf<typeof PlanFields>;

/**
 * Marks a resolved setting that the input left to the trainer (`applied`: the names of such
 * settings, as in TrainingConfig.defaultsApplied).
 */
export function TrainersChoice({ field, applied }: { field: string; applied: readonly string[] }) {
  return applied.includes(field) ? <span className="muted"> (trainer's choice)</span> : null;
}

/**
 * The plan's facts, labels and warnings. `trainerChose` names the settings the input left to
 * the trainer, so that their resolved values say so.
 */
export function PlanDetails({
  plan,
  trainerChose = [],
}: {
  plan: TrainingPlan;
  trainerChose?: readonly string[];
}) {
  return (
    <>
      <dl className="facts">
        <Fact term="Total steps">{formatCount(plan.totalSteps)}</Fact>
        <Fact term="Steps per epoch">{formatCount(plan.stepsPerEpoch)}</Fact>
        <Fact term="Warm-up steps">
          {formatCount(plan.warmupSteps)}
          <TrainersChoice field="warmupSteps" applied={trainerChose} />
        </Fact>
        <Fact term="Learning rate">
          {formatRate(plan.learningRate)}
          <TrainersChoice field="learningRate" applied={trainerChose} />
        </Fact>
        <Fact term="Documents">{formatCount(plan.documents)}</Fact>
        <Fact term="Examples (train / validation)">
          {formatCount(plan.trainExamples)} / {formatCount(plan.validationExamples)}
        </Fact>
        <Fact term="Estimated duration">
          {plan.estimatedDurationMs == null ? 'unknown' : formatDuration(plan.estimatedDurationMs)}
        </Fact>
      </dl>
      {plan.labels.length > 0 && (
        <p className="muted small">
          Labels: {plan.labels.map((l) => `${l.label} ${formatCount(l.count)}`).join(' · ')}
        </p>
      )}
      {plan.warnings.length > 0 && (
        <ul className="warnings" aria-label="Warnings">
          {plan.warnings.map((w) => (
            <li key={w.code} className="warning">
              <strong>{w.code}</strong>: {w.message}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
