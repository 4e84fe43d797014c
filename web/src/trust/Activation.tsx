import { formatDate, formatPercent } from '../format.ts';
import { graphql, type ResultOf } from '../graphql.ts';

/** The champion/challenger decision stored on a version (`ModelVersion.evaluation`). */
export const EvaluationFields = graphql(`
  fragment EvaluationFields on ActivationEvaluation {
    decision
    reason
    challengerF1
    championVersion {
      version
    }
    championF1
    baselineF1
  }
`);

/** One entry of `modelActivations`. */
export const ActivationFields = graphql(`
  fragment ActivationFields on ModelActivation {
    at
    by
    reason
    version {
      version
    }
    previous {
      version
    }
  }
`);

export type ActivationEvaluation = ResultOf<typeof EvaluationFields>;
export type ModelActivation = ResultOf<typeof ActivationFields>;

const DECISIONS: Record<string, string> = {
  ACTIVATED: 'Activated',
  KEPT_CHAMPION: 'Not activated: the serving version scored better',
  BELOW_BASELINE: 'Not activated: not clearly better than the baseline',
  MANUAL: 'Not activated: this job activates by hand only',
};

/** Why a completed job's version serves, or not (`ModelVersion.evaluation`). */
export function ActivationDecision({ evaluation }: { evaluation: ActivationEvaluation }) {
  return (
    <div className="decision">
      <p>
        <strong>{DECISIONS[evaluation.decision] ?? evaluation.decision}</strong> —{' '}
        {evaluation.reason}.
      </p>
      <p className="muted small">
        Macro-F1 {formatPercent(evaluation.challengerF1)}
        {evaluation.championVersion && (
          <>
            {' '}
            against {evaluation.championVersion.version} with {formatPercent(evaluation.championF1)}
          </>
        )}{' '}
        on the same validation split; baseline {formatPercent(evaluation.baselineF1)}.
      </p>
    </div>
  );
}

const REASONS: Record<string, string> = {
  AUTO_ALWAYS: 'automatic (always)',
  AUTO_IF_BETTER: 'automatic (better)',
  MANUAL: 'by hand',
  ROLLBACK: 'roll back',
};

/**
 * Every activation of a model type, newest first, with the Roll back button for admins: it
 * re-activates the version the latest activation replaced, so it is enabled only when that
 * version is known (the API answers NOT_FOUND when there is none, CONFLICT when it was deleted).
 */
export function ActivationHistory({
  activations,
  headingId,
  onRollBack,
  rollingBack = false,
}: {
  activations: readonly ModelActivation[];
  headingId: string;
  /** Absent for viewers: no button then. */
  onRollBack?: () => void;
  rollingBack?: boolean;
}) {
  const target = activations[0]?.previous;
  const hintId = `${headingId}-rollback`;
  return (
    <div className="history">
      <div className="history-head">
        <h3 id={headingId}>Activation history</h3>
        {onRollBack && (
          <>
            <button
              type="button"
              onClick={onRollBack}
              disabled={rollingBack || !target}
              aria-describedby={hintId}
            >
              Roll back
            </button>
            <span id={hintId} className="muted small">
              {target
                ? `re-activates ${target.version}, the version before the current one`
                : 'no earlier version to go back to'}
            </span>
          </>
        )}
      </div>
      {activations.length === 0 ? (
        <p className="muted">No activations yet.</p>
      ) : (
        <div className="table-wrap">
          <table aria-labelledby={headingId}>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Version</th>
                <th scope="col">Before</th>
                <th scope="col">How</th>
                <th scope="col">By</th>
              </tr>
            </thead>
            <tbody>
              {activations.map((a) => (
                <tr key={`${a.at} ${a.reason} ${a.version?.version ?? ''}`}>
                  <td>{formatDate(a.at)}</td>
                  <td>{a.version?.version ?? 'deleted'}</td>
                  <td>{a.previous?.version ?? '—'}</td>
                  <td>{REASONS[a.reason] ?? a.reason}</td>
                  <td>{a.by}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
