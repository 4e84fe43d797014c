/**
 * The example trainer's model, shared by training and the predict mode: softmax regression over
 * word counts hashed into BUCKETS, stored as JSON with its weights in base64.
 */

export const BUCKETS = 4096;
export const MODEL_FORMAT = 'example-trainer-model/1';

function fnv1a(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Word counts hashed into BUCKETS, scaled to unit length. */
export function featurize(text) {
  const counts = new Map();
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    const bucket = fnv1a(word) % BUCKETS;
    counts.set(bucket, (counts.get(bucket) ?? 0) + 1);
  }
  const norm = Math.sqrt([...counts.values()].reduce((sum, c) => sum + c * c, 0)) || 1;
  return {
    index: Int32Array.from(counts.keys()),
    value: Float64Array.from(counts.values(), (c) => c / norm),
  };
}

/** The softmax over the classes of `weights` (classes × BUCKETS) and `bias` for features `x`. */
export function probabilities(weights, bias, x) {
  const classes = bias.length;
  const p = new Float64Array(classes);
  let max = -Infinity;
  for (let c = 0; c < classes; c++) {
    let z = bias[c];
    const row = c * BUCKETS;
    for (let k = 0; k < x.index.length; k++) z += weights[row + x.index[k]] * x.value[k];
    p[c] = z;
    if (z > max) max = z;
  }
  let sum = 0;
  for (let c = 0; c < classes; c++) {
    p[c] = Math.exp(p[c] - max);
    sum += p[c];
  }
  for (let c = 0; c < classes; c++) p[c] /= sum;
  return p;
}

export const encode = (floats) =>
  Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength).toString('base64');

export const decode = (text) => {
  const bytes = Buffer.from(text, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
};

/** The artifact's JSON: the labels (sorted) and the trained weights. */
export const modelJson = (labels, weights, bias) =>
  JSON.stringify({
    format: MODEL_FORMAT,
    labels,
    buckets: BUCKETS,
    weights: encode(weights),
    bias: encode(bias),
  });

/** A model read back from modelJson's text; throws when it is not one of this trainer's. */
export function parseModel(text) {
  const model = JSON.parse(text);
  if (model.format !== MODEL_FORMAT || model.buckets !== BUCKETS) {
    throw new Error(`not a model of this trainer (format ${model.format})`);
  }
  const weights = decode(model.weights);
  const bias = decode(model.bias);
  if (bias.length !== model.labels.length || weights.length !== bias.length * BUCKETS) {
    throw new Error('the weights do not fit the labels');
  }
  return { labels: model.labels, weights, bias };
}
