import type { ActivationDecision, ActivationEvaluation } from '../vocabulary/evaluation.ts';
import type { ActivationPolicy } from '../vocabulary/training.ts';

/** How much a new version's macro-F1 must beat the majority-class baseline by (IF_BETTER). */
export const BASELINE_MARGIN = 0.05;

export type Champion = {
  versionId: string;
  label: string;
  /** Its macro-F1 on the challenger's validation split; null: it could not be run. */
  f1: number | null;
  /** Why it could not be run, when it could not. */
  unscoredReason?: string;
};

const f = (x: number) => x.toFixed(3);

/** The champion/challenger rule of CONTRACT.md ("Training people can trust"). */
export function judge(input: {
  policy: ActivationPolicy;
  challengerF1: number;
  baselineF1: number;
  champion: Champion | null;
  /** Why the challenger's own model could not be run on the split (its trainer's F1 stands in). */
  challengerUnscoredReason?: string;
}): ActivationEvaluation {
  const { policy, challengerF1, baselineF1, champion, challengerUnscoredReason } = input;
  const scores = {
    challengerF1,
    baselineF1,
    championVersionId: champion?.versionId ?? null,
    championF1: champion?.f1 ?? null,
  };
  const result = (decision: ActivationDecision, reason: string): ActivationEvaluation => ({
    decision,
    reason,
    ...scores,
  });
  if (policy === 'MANUAL') {
    return result('MANUAL', 'activation MANUAL: it serves only once activated by hand');
  }
  if (policy === 'ALWAYS') {
    return result('ACTIVATED', 'activation ALWAYS: a completed version always becomes active');
  }
  if (challengerF1 < baselineF1 + BASELINE_MARGIN) {
    return result(
      'BELOW_BASELINE',
      `macro-F1 ${f(challengerF1)} does not beat the majority-class baseline ${f(baselineF1)} by ${BASELINE_MARGIN}`,
    );
  }
  if (!champion) {
    return result('ACTIVATED', `no active version; macro-F1 ${f(challengerF1)} beats the baseline`);
  }
  if (challengerUnscoredReason) {
    return result(
      'KEPT_CHAMPION',
      `the new version could not be evaluated on this job's validation split (${challengerUnscoredReason}), so it cannot be shown to be better than the active ${champion.label}; activate by hand if wanted`,
    );
  }
  if (champion.f1 === null) {
    return result(
      'KEPT_CHAMPION',
      `the active ${champion.label} cannot be scored${champion.unscoredReason ? ` (${champion.unscoredReason})` : ' by this trainer'}, so it cannot be shown to be worse; activate by hand if wanted`,
    );
  }
  if (champion.f1 < challengerF1) {
    return result(
      'ACTIVATED',
      `macro-F1 ${f(challengerF1)} beats the active ${champion.label} (${f(champion.f1)}) on this job's validation split`,
    );
  }
  return result(
    'KEPT_CHAMPION',
    `the active ${champion.label} scores ${f(champion.f1)} on this job's validation split, not below ${f(challengerF1)}`,
  );
}
