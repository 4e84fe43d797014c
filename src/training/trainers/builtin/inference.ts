import { decodeArtifact, type Model } from './artifact.ts';
import { featurize } from './featurize.ts';
import { scores, softmaxInPlace } from './linear.ts';

export type Classification = {
  label: string;
  /** Every label with its probability, most likely first. */
  probabilities: { label: string; probability: number }[];
};

// Decoding expands the weights, so keep the result per artifact buffer.
const loaded = new WeakMap<Uint8Array, Model>();

export function loadModel(artifact: Uint8Array): Model {
  let model = loaded.get(artifact);
  if (!model) {
    model = decodeArtifact(artifact);
    loaded.set(artifact, model);
  }
  return model;
}

/** Predicts the document type of a text with a trained artifact. */
export function classify(artifact: Uint8Array, text: string): Classification {
  const model = loadModel(artifact);
  const probs = new Float64Array(model.labels.length);
  scores(model.weights, model.bias, model.labels.length, featurize(text, model.features), probs);
  softmaxInPlace(probs);
  const probabilities = model.labels
    .map((label, c) => ({ label, probability: probs[c] as number }))
    .sort((a, b) => b.probability - a.probability);
  return { label: (probabilities[0] as { label: string }).label, probabilities };
}
