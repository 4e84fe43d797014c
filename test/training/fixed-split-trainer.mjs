// A command trainer for the evaluation tests: it "trains" in one step, holds out the first
// example of every label (validationIndices), reports the F1 given in FAKE_F1, and leaves as its
// artifact a model for test/training/fake-model.mjs ({labels, ...FAKE_MODEL}).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

process.on('SIGUSR1', () => {});
process.on('SIGUSR2', () => {});
const input = JSON.parse(readFileSync(process.env.TRAINER_INPUT, 'utf8'));
const labels = [...new Set(input.examples.map((e) => e.label))].sort();
const validation = labels.map((label) => input.examples.findIndex((e) => e.label === label));
const write = (event) => process.stdout.write(`${JSON.stringify(event)}\n`);
const f1 = Number(process.env.FAKE_F1 ?? '0.9');

write({
  type: 'prepared',
  totalSteps: 1,
  stepsPerEpoch: 1,
  trainSize: input.examples.length - validation.length,
  validationSize: validation.length,
  labels,
  precision: 'fp32',
  resumedFromStep: 0,
  validationIndices: validation,
});
write({ type: 'step', step: 1, epoch: 1, loss: 0.5, learningRate: 0.01, examplesSeen: 10 });
write({
  type: 'eval',
  step: 1,
  epoch: 1,
  valLoss: 0.5,
  precision: f1,
  recall: f1,
  f1,
  accuracy: f1,
  final: true,
});
const artifact = path.join(process.env.TRAINER_WORKDIR, 'model.json');
writeFileSync(artifact, JSON.stringify({ labels, ...JSON.parse(process.env.FAKE_MODEL ?? '{}') }));
write({ type: 'artifact', path: artifact });
