import { formatDate, formatPercent } from '../format.ts';
import type { ActivationEvaluation, ModelActivation } from './contract.ts';

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
        <strong>{DECISIONS[evaluation.decision] ?? evaluation.decision}</strong>.{' '}
        {evaluation.reason}
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

/** Every activation of a model type, newest first, and the Roll back button for admins. */
export function ActivationHistory({
  activations,
  onRollBack,
  rollingBack = false,
}: {
  activations: readonly ModelActivation[];
  /** Absent for viewers: no button then. */
  onRollBack?: () => void;
  rollingBack?: boolean;
}) {
  return (
    <div className="history">
      <div className="page-head">
        <h3>Activation history</h3>
        {onRollBack && (
          <button
            type="button"
            onClick={onRollBack}
            disabled={rollingBack || activations.length < 2}
          >
            Roll back
          </button>
        )}
      </div>
      {activations.length === 0 ? (
        <p className="muted">No activations yet.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">Activation history, newest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Version</th>
                <th scope="col">Before</th>
                <th scope="col">Why</th>
                <th scope="col">By</th>
              </tr>
            </thead>
            <tbody>
              {activations.map((a) => (
                <tr key={`${a.at}-${a.version?.version ?? 'none'}`}>
                  <td>{formatDate(a.at)}</td>
                  <td>{a.version?.version ?? 'deleted'}</td>
                  <td>{a.previous?.version ?? '—'}</td>
                  <td>{a.reason}</td>
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
