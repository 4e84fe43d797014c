import { describe, expect, it } from 'vitest';
import { featurize, tokenize } from '../../src/training/trainers/builtin/featurize.ts';

describe('tokenize', () => {
  it('lowercases and splits on non-letters, keeping umlauts and ß', () => {
    expect(
      tokenize('Die Schulordnung (§ 12, Abs. 3) gilt für Schüler-Innen; GROẞE Straße!'),
    ).toEqual(['die', 'schulordnung', 'abs', 'gilt', 'für', 'schüler', 'innen', 'große', 'straße']);
  });
  it('returns nothing for text without letters', () => {
    expect(tokenize('§ 12 – 3.4')).toEqual([]);
  });
});

describe('featurize', () => {
  const features = { buckets: 1 << 18, maxNgram: 2 };

  it('is L2-normalised with ascending unique bucket indices', () => {
    const x = featurize('der erlass der schule und der erlass', features);
    let norm = 0;
    for (const v of x.values) norm += v * v;
    expect(norm).toBeCloseTo(1, 12);
    for (let i = 1; i < x.indices.length; i++)
      expect(x.indices[i] as number).toBeGreaterThan(x.indices[i - 1] as number);
  });

  it('counts unigrams and bigrams with log-TF', () => {
    // 4 distinct unigrams + 5 distinct bigrams ("der erlass" occurs twice)
    const x = featurize('der erlass der schule und der erlass', { buckets: 1 << 30, maxNgram: 2 });
    expect(x.indices.length).toBe(4 + 5);
    const unigramsOnly = featurize('der erlass der schule und der erlass', {
      buckets: 1 << 30,
      maxNgram: 1,
    });
    expect(unigramsOnly.indices.length).toBe(4);
    // tf: der 3, erlass 2, schule 1, und 1 -> 1 + ln tf, then normalised
    const raw = [1 + Math.log(3), 1 + Math.log(2), 1, 1].sort((a, b) => a - b);
    const norm = Math.hypot(...raw);
    expect([...unigramsOnly.values].sort((a, b) => a - b)).toEqual(
      raw.map((v) => expect.closeTo(v / norm, 12)),
    );
  });

  it('is case-insensitive and deterministic', () => {
    const a = featurize('Verordnung über die Schulpflicht', features);
    const b = featurize('verordnung ÜBER die schulpflicht', features);
    expect(a).toEqual(b);
  });

  it('gives an empty vector for empty text', () => {
    expect(featurize('', features).indices.length).toBe(0);
  });
});
