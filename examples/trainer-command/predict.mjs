/**
 * TRAINER_MODE=predict (docs/trainer-command.md): serves the model in the file TRAINER_ARTIFACT.
 * A ready line with the labels, then one answer line per request line on stdin, in order, until
 * stdin ends. A request it cannot answer gets an error line, and it serves on.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { featurize, parseModel, probabilities } from './model.mjs';

/** Every label with its probability, most likely first; `label` the most likely one. */
function predict(model, text) {
  const p = probabilities(model.weights, model.bias, featurize(text));
  const ranked = model.labels
    .map((label, c) => ({ label, probability: p[c] }))
    .sort((a, b) => b.probability - a.probability);
  return { label: ranked[0].label, probabilities: ranked };
}

function answer(model, line) {
  let request;
  try {
    request = JSON.parse(line);
  } catch {
    return { type: 'error', id: null, message: 'the request is not JSON' };
  }
  const id = request?.id ?? null;
  const texts = request?.texts;
  if (!Array.isArray(texts) || !texts.every((t) => typeof t === 'string')) {
    return { type: 'error', id, message: 'texts must be a list of strings' };
  }
  return { type: 'predictions', id, predictions: texts.map((text) => predict(model, text)) };
}

/** Loads the artifact and answers requests until stdin ends; `emit` writes one stdout line. */
export async function servePredictions(artifactPath, emit) {
  const model = parseModel(readFileSync(artifactPath, 'utf8'));
  await emit({ type: 'ready', labels: model.labels });
  for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
    if (line.trim()) await emit(answer(model, line));
  }
}
