#!/usr/bin/env node
/**
 * A small but real trainer for TRAINER=command (docs/trainer-command.md): softmax regression over
 * hashed bag-of-words features, trained with mini-batch SGD, a linear warmup/decay schedule and
 * decoupled weight decay. Plain Node without dependencies; a template for, say, a PyTorch trainer
 * that speaks the same protocol. Deterministic for a given input: a run paused and resumed from
 * its checkpoint ends with the same model as a run straight through. TRAINER_MODE=describe
 * declares its recommended learning rate and warm-up, TRAINER_MODE=predict serves a trained
 * model (predict.mjs).
 *
 *   TRAINER_INPUT=input.json TRAINER_WORKDIR=out node examples/trainer-command/train.mjs
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  BUCKETS,
  decode,
  encode,
  featurize,
  modelJson,
  probabilities as softmax,
} from './model.mjs';
import { servePredictions } from './predict.mjs';

const VALIDATION_FRACTION = 0.15;
const CHECKPOINT_FORMAT = 'example-trainer-checkpoint/1';
// Plain SGD on a convex loss needs no warm-up; its learning rate is the API's largest (0.1):
// on the demo corpus (API defaults otherwise) larger ones learn faster still, smaller ones
// hardly at all (docs/trainer-command.md, "The Node example").
const DEFAULTS = { learningRate: 0.1, warmupSteps: 0 };

/** A synchronous write: process.exit() may drop what process.stderr has not written yet. */
const fail = (message, code = 2) => {
  writeSync(2, `train.mjs: ${message}\n`);
  process.exit(code);
};

/** One protocol event per stdout line; resolves once written (before exiting). */
const emit = (event) =>
  new Promise((resolve) => process.stdout.write(`${JSON.stringify(event)}\n`, resolve));

const mode = process.env.TRAINER_MODE || 'train';
if (mode === 'describe') {
  await emit({ type: 'describe', version: 1, defaults: DEFAULTS, predict: true });
  process.exit(0);
}
if (mode === 'predict') {
  if (!process.env.TRAINER_ARTIFACT) fail('TRAINER_ARTIFACT must name the model file');
  await servePredictions(process.env.TRAINER_ARTIFACT, emit).catch((error) => fail(error.message));
  process.exit(0);
}
if (mode !== 'train') fail(`unknown TRAINER_MODE ${mode}`);

// Control signals. The handlers are in place before "prepared": the adapter signals only after it.
let checkpointWanted = false;
let pauseWanted = false;
process.on('SIGUSR1', () => {
  checkpointWanted = true;
});
process.on('SIGUSR2', () => {
  pauseWanted = true;
});
// The adapter keeps stdin open and never writes to it: its end means the server is gone.
if (!process.stdin.isTTY) {
  process.stdin.on('end', () => fail('stdin closed: the server is gone', 1));
  process.stdin.resume();
}

// ---- input ----------------------------------------------------------------------------------

const { TRAINER_INPUT: inputFile, TRAINER_WORKDIR: workdir } = process.env;
if (!inputFile || !workdir) fail('TRAINER_INPUT and TRAINER_WORKDIR must be set');
const input = JSON.parse(readFileSync(inputFile, 'utf8'));
const { config, examples } = input;

const isInt = (v, min) => Number.isInteger(v) && v >= min;
for (const key of ['batchSize', 'epochs', 'gradientAccumulation']) {
  if (!isInt(config[key], 1)) fail(`config.${key} must be an integer >= 1, got ${config[key]}`);
}
if (!isInt(config.warmupSteps, 0)) fail('config.warmupSteps must be an integer >= 0');
if (!(config.learningRate > 0)) fail('config.learningRate must be > 0');
if (!(config.weightDecay >= 0)) fail('config.weightDecay must be >= 0');
if (!Number.isInteger(config.seed)) fail('config.seed must be an integer');

// ---- data -----------------------------------------------------------------------------------

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled(items, random) {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

const labels = [...new Set(examples.map((e) => e.label))].sort();
if (labels.length < 2) fail(`need examples of at least two labels, got ${labels.length}`);
const classes = labels.length;
const target = examples.map((e) => labels.indexOf(e.label));
const features = examples.map((e) => featurize(e.text));

// Stratified hold-out: a share of every label with at least two examples.
const splitRandom = mulberry32(config.seed);
const train = [];
const validation = [];
for (let c = 0; c < classes; c++) {
  const members = shuffled(
    target.flatMap((t, i) => (t === c ? [i] : [])),
    splitRandom,
  );
  const held =
    members.length >= 2 ? Math.max(1, Math.round(members.length * VALIDATION_FRACTION)) : 0;
  validation.push(...members.slice(0, held));
  train.push(...members.slice(held));
}
if (validation.length === 0) fail('too few examples to hold out a validation split');

const perStep = config.batchSize * config.gradientAccumulation;
const stepsPerEpoch = Math.ceil(train.length / perStep);
const totalSteps = stepsPerEpoch * config.epochs;

/** Linear warmup from 0, then linear decay to 0 at the end (0-based step index). */
function learningRateAt(index) {
  const { learningRate: peak, warmupSteps } = config;
  if (index < warmupSteps) return (peak * index) / warmupSteps;
  return peak * Math.max(0, (totalSteps - index) / Math.max(1, totalSteps - warmupSteps));
}

let orderEpoch = -1;
let order = [];
/** Each epoch's order depends on the seed and the epoch only, so a resume needs no RNG state. */
function epochOrder(epoch) {
  if (epoch !== orderEpoch) {
    order = shuffled(train, mulberry32(config.seed + 7919 * (epoch + 1)));
    orderEpoch = epoch;
  }
  return order;
}

// ---- model ----------------------------------------------------------------------------------

let weights = new Float32Array(classes * BUCKETS);
let bias = new Float32Array(classes);
const probabilities = (x) => softmax(weights, bias, x);

const crossEntropy = (p, c) => -Math.log(Math.max(p[c], 1e-12));

/** One optimizer step (0-based index) over batchSize × gradientAccumulation examples. */
function trainStep(index) {
  const epoch = Math.floor(index / stepsPerEpoch);
  const from = (index % stepsPerEpoch) * perStep;
  const batch = epochOrder(epoch).slice(from, from + perStep);
  const learningRate = learningRateAt(index);
  // Gradients come from the weights before this step.
  const probs = batch.map((i) => probabilities(features[i]));
  const keep = 1 - learningRate * config.weightDecay;
  if (keep !== 1) for (let j = 0; j < weights.length; j++) weights[j] *= keep;
  let loss = 0;
  batch.forEach((i, n) => {
    const p = probs[n];
    const x = features[i];
    loss += crossEntropy(p, target[i]);
    for (let c = 0; c < classes; c++) {
      const g = ((p[c] - (c === target[i] ? 1 : 0)) * learningRate) / batch.length;
      bias[c] -= g;
      const row = c * BUCKETS;
      for (let k = 0; k < x.index.length; k++) weights[row + x.index[k]] -= g * x.value[k];
    }
  });
  return {
    type: 'step',
    step: index + 1,
    epoch: epoch + 1,
    loss: loss / batch.length,
    learningRate,
    examplesSeen: epoch * train.length + Math.min(from + perStep, train.length),
  };
}

/** Validation loss, accuracy and macro precision/recall/F1. */
function evaluate() {
  const tp = new Array(classes).fill(0);
  const predicted = new Array(classes).fill(0);
  const actual = new Array(classes).fill(0);
  let loss = 0;
  for (const i of validation) {
    const p = probabilities(features[i]);
    loss += crossEntropy(p, target[i]);
    let best = 0;
    for (let c = 1; c < classes; c++) if (p[c] > p[best]) best = c;
    predicted[best]++;
    actual[target[i]]++;
    if (best === target[i]) tp[best]++;
  }
  let precision = 0;
  let recall = 0;
  let f1 = 0;
  for (let c = 0; c < classes; c++) {
    const p = predicted[c] ? tp[c] / predicted[c] : 0;
    const r = actual[c] ? tp[c] / actual[c] : 0;
    precision += p;
    recall += r;
    f1 += p + r > 0 ? (2 * p * r) / (p + r) : 0;
  }
  return {
    valLoss: loss / validation.length,
    precision: precision / classes,
    recall: recall / classes,
    f1: f1 / classes,
    accuracy: tp.reduce((a, b) => a + b, 0) / validation.length,
  };
}

// ---- checkpoints ----------------------------------------------------------------------------

// A checkpoint only fits the data and hyperparameters it was trained on.
const fingerprint = createHash('sha256').update(JSON.stringify({ config, examples })).digest('hex');

const epochOfStep = (step) => (step === 0 ? 0 : Math.floor((step - 1) / stepsPerEpoch) + 1);

/** A new file per checkpoint: the adapter takes it over with the event. */
function checkpointEvent(step) {
  const file = path.join(workdir, `checkpoint-${step}.json`);
  const state = {
    format: CHECKPOINT_FORMAT,
    fingerprint,
    step,
    weights: encode(weights),
    bias: encode(bias),
  };
  writeFileSync(file, JSON.stringify(state));
  return { type: 'checkpoint', step, epoch: epochOfStep(step), path: file };
}

let startStep = 0;
if (input.checkpoint) {
  const state = JSON.parse(readFileSync(input.checkpoint, 'utf8'));
  if (state.format !== CHECKPOINT_FORMAT)
    fail(`${input.checkpoint} is not a checkpoint of this trainer`);
  if (state.fingerprint !== fingerprint) fail('the checkpoint comes from other data or settings');
  weights = decode(state.weights);
  bias = decode(state.bias);
  startStep = state.step;
}

// ---- run ------------------------------------------------------------------------------------

await emit({
  type: 'prepared',
  totalSteps,
  stepsPerEpoch,
  trainSize: train.length,
  validationSize: validation.length,
  labels,
  precision: 'fp32',
  resumedFromStep: startStep,
  ...(config.mixedPrecision
    ? { note: 'mixedPrecision requested; this trainer computes in fp32' }
    : {}),
});

for (let index = startStep; index < totalSteps; index++) {
  // Signal handlers run between steps.
  await nextTurn();
  await emit(trainStep(index));
  const step = index + 1;
  if (step % stepsPerEpoch === 0) {
    await emit({
      type: 'eval',
      step,
      epoch: step / stepsPerEpoch,
      final: step === totalSteps,
      ...evaluate(),
    });
  }
  // A checkpoint comes after the step's evaluation (the protocol's order: the step's point is
  // complete once a checkpoint follows it). At the last step the run is as good as finished: it
  // ends with its artifact instead.
  if ((checkpointWanted || pauseWanted) && step < totalSteps) {
    checkpointWanted = false;
    await emit(checkpointEvent(step));
    if (pauseWanted) process.exit(0);
  }
}

const modelFile = path.join(workdir, 'model.json');
writeFileSync(modelFile, modelJson(labels, weights, bias));
await emit({ type: 'artifact', path: modelFile });
process.exit(0);
