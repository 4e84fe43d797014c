/**
 * The ceiling of SSE fan-out on this machine, for comparison: plain node:http writing one
 * pre-serialized event, shaped like a `trainingProgress` update, to every open stream at
 * BENCH_RATE per second. No GraphQL, no database, no per-subscriber work but the write.
 */
import { createServer, type ServerResponse } from 'node:http';

const RATE = Number(process.env.BENCH_RATE ?? 2);
const open = new Set<ServerResponse>();

createServer((request, response) => {
  if (request.url === '/ready') {
    response.end('ok');
    return;
  }
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  response.write(':\n\nevent: next\ndata: {"data":{"trainingProgress":{"newPoints":[]}}}\n\n');
  open.add(response);
  response.on('close', () => open.delete(response));
}).listen(Number(process.env.PORT), '127.0.0.1');

let step = 0;
setInterval(() => {
  step += 1;
  const update = {
    job: {
      id: 'VHJhaW5pbmdKb2I6MGRiZmE0NTUtZjMxMC00MWVhLThmMWUtYjhmOWFmZTNhZWQ3',
      status: 'TRAINING',
      progress: step / 10_000,
      currentStep: step,
      loss: 1 / step,
      learningRate: 5e-5,
    },
    elapsedTimeMs: step * 500,
    estimatedRemainingMs: 86_400_000,
    newPoints: [{ step, loss: 1 / step, learningRate: 5e-5, timestamp: new Date().toISOString() }],
  };
  const message = Buffer.from(
    `event: next\ndata: ${JSON.stringify({ data: { trainingProgress: update } })}\n\n`,
  );
  for (const response of open) response.write(message);
}, 1000 / RATE);
