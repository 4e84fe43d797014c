import { describe, expect, it } from 'vitest';
import { decodeArtifact, encodeArtifact } from '../../src/training/trainers/builtin/artifact.ts';
import { classify } from '../../src/training/trainers/builtin/inference.ts';
import { stratifiedSplit } from '../../src/training/trainers/builtin/split.ts';
import { baseConfig, doneOf, runAll } from './helpers.ts';
import { syntheticCorpus } from './synthetic-corpus.ts';

const examples = syntheticCorpus({ size: 400, seed: 5 });
const done = doneOf(runAll({ examples, config: baseConfig }));

describe('classify', () => {
  it('reproduces the validation accuracy of training from the artifact alone', () => {
    const { validation } = stratifiedSplit(examples, 0.15, baseConfig.seed);
    const correct = validation.filter((i) => {
      const example = examples[i] as (typeof examples)[number];
      return classify(done.artifact, example.text).label === example.label;
    }).length;
    expect(correct / validation.length).toBeCloseTo(done.metrics.accuracy, 12);
  });

  it('gives every label a probability, most likely first, summing to 1', () => {
    const result = classify(
      done.artifact,
      'Der Runderlass des Kultusministeriums regelt die Berichtspflicht der nachgeordneten Dienststellen.',
    );
    expect(result.label).toBe('erlass');
    expect(result.probabilities.map((p) => p.label).sort()).toEqual([
      'erlass',
      'handreichung',
      'schulordnung',
      'verordnung',
    ]);
    const ps = result.probabilities.map((p) => p.probability);
    expect(ps.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect([...ps].sort((a, b) => b - a)).toEqual(ps);
    expect(result.probabilities[0]?.label).toBe(result.label);
  });

  it('recognises clear texts of each type', () => {
    const texts: Record<string, string> = {
      verordnung:
        'Verordnung der Landesregierung: Inkrafttreten gemäß Absatz 2, Ordnungswidrigkeit.',
      schulordnung:
        'Die Hausordnung gilt für alle Schülerinnen und Schüler auf dem Schulhof in der Pause.',
      handreichung:
        'Hinweise und Empfehlungen für die Praxis: Beispiele, Materialien und Methoden.',
      erlass:
        'Runderlass: Anordnung an die Dienststellen auf dem Dienstweg, Genehmigung durch die Aufsicht.',
    };
    for (const [label, text] of Object.entries(texts))
      expect(classify(done.artifact, text).label).toBe(label);
  });

  it('stores the model compactly and decodes it losslessly', () => {
    const model = decodeArtifact(done.artifact);
    expect(model.labels).toEqual(['erlass', 'handreichung', 'schulordnung', 'verordnung']);
    expect(model.features).toEqual({ buckets: 1 << 18, maxNgram: 2 });
    // Dense fp32 weights would be 2^18 * 4 * 4 bytes = 4 MiB.
    expect(done.artifact.length).toBeLessThan(400_000);
    expect(Buffer.from(encodeArtifact(model)).equals(Buffer.from(done.artifact))).toBe(true);
  });

  it('rejects bytes that are not an artifact', () => {
    expect(() => classify(new Uint8Array(64), 'text')).toThrow(/not a model artifact/);
  });
});
