// A model process for the predict-pool tests (TRAINER_MODE=predict). Its "artifact" is JSON that
// says how to behave: {labels, log, exitOnStart, noReady, hangOn, delayOn, crashOn, errorOn, badOn}. Each
// request answers every label, the first one most likely; a text equal to one of the *On
// strings triggers that behaviour. `log` is a file it appends "<event> <pid> [<texts>]" lines to.
import { appendFileSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const model = JSON.parse(readFileSync(process.env.TRAINER_ARTIFACT, 'utf8'));
const note = (line) => model.log && appendFileSync(model.log, `${line}\n`);
const write = (object) => process.stdout.write(`${JSON.stringify(object)}\n`);

note(`start ${process.pid}`);
if (model.exitOnStart) {
  console.error('fake model: cannot load');
  process.exit(model.exitOnStart);
}
console.error(
  JSON.stringify({ level: 'info', msg: 'fake model loaded', fields: { pid: process.pid } }),
);
if (model.noReady) setInterval(() => {}, 1000);
else write({ type: 'ready', labels: model.labels });

const answer = (id, texts) => {
  const rest = (1 - 0.7) / (model.labels.length - 1);
  const probabilities = model.labels.map((label, i) => ({
    label,
    probability: i === 0 ? 0.7 : rest,
  }));
  return {
    type: 'predictions',
    id,
    predictions: texts.map(() => ({ label: model.labels[0], probabilities })),
  };
};

createInterface({ input: process.stdin })
  .on('line', (line) => {
    if (model.noReady) return;
    const { id, texts } = JSON.parse(line);
    note(`request ${process.pid} ${texts.length}`);
    if (texts.includes(model.crashOn)) {
      console.error('fake model: crashing as asked');
      process.exit(3);
    }
    if (texts.includes(model.hangOn)) return;
    if (texts.includes(model.delayOn)) {
      setTimeout(() => write(answer(id, texts)), 300);
      return;
    }
    if (texts.includes(model.errorOn))
      write({ type: 'error', id, message: 'cannot read this text' });
    else if (texts.includes(model.badOn)) write({ ...answer(id, texts), predictions: [] });
    else write(answer(id, texts));
  })
  .on('close', () => {
    note(`eof ${process.pid}`);
    process.exit(0);
  });
