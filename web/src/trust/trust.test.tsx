import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, test } from 'vitest';
import { ActivationDecision, ActivationHistory } from './Activation.tsx';
import { PlanDetails } from './PlanDetails.tsx';
import { ValidationResults } from './ValidationResults.tsx';

const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

describe('components for the trust API', () => {
  test('PlanDetails shows the steps and every warning', () => {
    const html = renderToStaticMarkup(
      <PlanDetails
        plan={{
          documents: 40,
          examples: 60,
          trainExamples: 54,
          validationExamples: 6,
          labels: [
            { label: 'erlass', count: 50 },
            { label: 'verordnung', count: 4 },
          ],
          stepsPerEpoch: 1,
          totalSteps: 10,
          warmupSteps: 500,
          learningRate: 0.00005,
          estimatedDurationMs: null,
          warnings: [
            { code: 'WARMUP_EXCEEDS_RUN', message: 'warm-up 500 steps, run 10' },
            { code: 'TINY_VALIDATION', message: '6 validation examples' },
          ],
        }}
      />,
    );
    expect(text(html)).toContain('Total steps 10');
    expect(text(html)).toContain('Estimated duration unknown');
    expect(text(html)).toContain('WARMUP_EXCEEDS_RUN : warm-up 500 steps, run 10');
    expect(text(html)).toContain('TINY_VALIDATION');
  });

  test('ValidationResults lays the confusion matrix out with true labels as rows', () => {
    const cls = (label: string, support: number) => ({
      label,
      precision: 0.5,
      recall: 0.5,
      f1Score: 0.5,
      support,
    });
    const html = renderToStaticMarkup(
      <ValidationResults
        report={{
          accuracy: 0.75,
          macroF1: 0.7,
          baselineAccuracy: 0.5,
          baselineF1: 0.33,
          perClass: [cls('erlass', 4), cls('verordnung', 4)],
          confusionMatrix: [
            [3, 1],
            [1, 3],
          ],
        }}
      />,
    );
    expect(text(html)).toContain('Baseline macro-F1 33.0 %');
    expect(html).toMatch(
      /<th scope="row">erlass<\/th><td class="num diagonal">3<\/td><td class="num">1<\/td>/,
    );
  });

  test('ActivationDecision explains a kept champion; the history offers Roll back to admins only', () => {
    const decision = renderToStaticMarkup(
      <ActivationDecision
        evaluation={{
          decision: 'KEPT_CHAMPION',
          reason: 'v1.0 scores 0.81 on this split',
          challengerF1: 0.78,
          championVersion: { version: 'v1.0' },
          championF1: 0.81,
          baselineF1: 0.3,
        }}
      />,
    );
    expect(text(decision)).toContain('the serving version scored better');
    expect(text(decision)).toContain('against v1.0 with 81.0 %');

    const activations = [
      {
        version: { version: 'v2.0' },
        previous: { version: 'v1.0' },
        at: '2026-11-29T10:00:00.000Z',
        by: 'admin',
        reason: 'MANUAL',
      },
      {
        version: { version: 'v1.0' },
        previous: null,
        at: '2026-11-28T10:00:00.000Z',
        by: 'system',
        reason: 'AUTO_IF_BETTER',
      },
    ];
    const history = (props: { onRollBack?: () => void }, list = activations) =>
      renderToStaticMarkup(
        <ActivationHistory activations={list} headingId="history-zeugnis" {...props} />,
      );
    expect(text(history({ onRollBack: () => {} }))).toContain(
      'Roll back re-activates v1.0, the version before the current one',
    );
    expect(history({ onRollBack: () => {} })).not.toMatch(/<button[^>]*disabled/);
    expect(text(history({}))).toContain('by hand');
    expect(history({})).not.toContain('Roll back');
    // the first activation replaced nothing: there is nothing to roll back to
    expect(history({ onRollBack: () => {} }, activations.slice(1))).toMatch(
      /<button[^>]*disabled[^>]*>Roll back/,
    );
  });
});
