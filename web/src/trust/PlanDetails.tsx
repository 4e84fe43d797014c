import { Fact } from '../components/common.tsx';
import { formatCount, formatDuration, formatRate } from '../format.ts';
import type { TrainingPlan } from './contract.ts';

/** The inside of the New job form's Plan region, from `trainingPlan(input)`. */
export function PlanDetails({ plan }: { plan: TrainingPlan }) {
  return (
    <>
      <dl className="facts">
        <Fact term="Total steps">{formatCount(plan.totalSteps)}</Fact>
        <Fact term="Steps per epoch">{formatCount(plan.stepsPerEpoch)}</Fact>
        <Fact term="Warm-up steps">{formatCount(plan.warmupSteps)}</Fact>
        <Fact term="Learning rate">{formatRate(plan.learningRate)}</Fact>
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
