/**
 * Profiles a server started with `--inspect=<port>` over the inspector protocol while its
 * subscribers connect (run.ts, BENCH_SETUP_PROFILE): a CPU profile and V8's sampling heap
 * profile with collected objects included, that is every allocation of the setup path, not
 * only what survives it. Writes `<dir>/setup.cpuprofile` (open it in Chrome's DevTools) and
 * `<dir>/setup.heapprofile`, and prints where the setup path allocates, per subscriber.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

type HeapNode = {
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  selfSize: number;
  children: HeapNode[];
};

type CpuProfile = {
  nodes: Array<{ id: number; callFrame: HeapNode['callFrame']; children?: number[] }>;
  samples: number[];
  timeDeltas: number[];
};

type Session = { send<T>(method: string, params?: object): Promise<T>; close(): void };

async function connect(port: number): Promise<Session> {
  const [target] = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<{
    webSocketDebuggerUrl: string;
  }>;
  if (!target) throw new Error(`no inspector target on port ${port}`);
  const socket = new WebSocket(target.webSocketDebuggerUrl, { maxPayload: 2 ** 30 });
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  let nextId = 0;
  const pending = new Map<number, (message: { result?: unknown; error?: unknown }) => void>();
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: unknown };
    if (message.id !== undefined) pending.get(message.id)?.(message);
  });
  return {
    send: <T>(method: string, params = {}) =>
      new Promise<T>((resolve, reject) => {
        const id = ++nextId;
        pending.set(id, (message) => {
          pending.delete(id);
          if (message.error) reject(new Error(`${method}: ${JSON.stringify(message.error)}`));
          else resolve(message.result as T);
        });
        socket.send(JSON.stringify({ id, method, params }));
      }),
    close: () => socket.close(),
  };
}

/** Starts profiling; the function it returns stops, writes the profiles and prints a summary. */
export async function profileSetup(
  port: number,
  dir: string,
): Promise<(subscribers: number) => Promise<void>> {
  const session = await connect(port);
  await session.send('Profiler.enable');
  await session.send('Profiler.setSamplingInterval', { interval: 200 });
  await session.send('HeapProfiler.enable');
  await session.send('HeapProfiler.startSampling', {
    samplingInterval: 1024,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  await session.send('Profiler.start');
  return async (subscribers) => {
    const { profile: cpu } = await session.send<{ profile: CpuProfile }>('Profiler.stop');
    const { profile: heap } = await session.send<{ profile: { head: HeapNode } }>(
      'HeapProfiler.stopSampling',
    );
    session.close();
    writeFileSync(path.join(dir, 'setup.cpuprofile'), JSON.stringify(cpu));
    writeFileSync(path.join(dir, 'setup.heapprofile'), JSON.stringify(heap));
    printAllocations(heap.head, subscribers);
    printCpu(cpu, subscribers);
  };
}

const frameName = ({ functionName, url, lineNumber, columnNumber }: HeapNode['callFrame']) => {
  const source = originalPosition(url, lineNumber, columnNumber);
  const file = source.file.replace(/^.*\/node_modules\//, '').replace(/^.*\/src\//, 'src/');
  return `${functionName || '(anonymous)'} ${file}:${source.line + 1}`;
};

/** CPU time per subscriber by function (self time), and the total, idle excluded. */
function printCpu(profile: CpuProfile, subscribers: number): void {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    const us = profile.timeDeltas[i] ?? 0;
    if (!node || node.callFrame.functionName === '(idle)') return;
    busy += us;
    const name = frameName(node.callFrame);
    self.set(name, (self.get(name) ?? 0) + us);
  });
  console.log(
    `setup CPU: ${(busy / subscribers).toFixed(0)} µs per subscriber (main thread, sampled)`,
  );
  for (const [name, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
    console.log(`${(us / subscribers).toFixed(1).padStart(8)} µs  ${name}`);
  }
}

/** Allocated bytes per subscriber by the allocating function, and by the nearest frame in src/. */
function printAllocations(head: HeapNode, subscribers: number): void {
  const bySite = new Map<string, number>();
  const byOwn = new Map<string, number>();
  let total = 0;
  const walk = (node: HeapNode, ownFrame: string) => {
    const name = frameName(node.callFrame);
    const own = name.includes(' src/') ? name : ownFrame;
    if (node.selfSize > 0) {
      total += node.selfSize;
      bySite.set(name, (bySite.get(name) ?? 0) + node.selfSize);
      byOwn.set(own, (byOwn.get(own) ?? 0) + node.selfSize);
    }
    for (const child of node.children) walk(child, own);
  };
  walk(head, '(outside src/)');
  const top = (map: Map<string, number>, title: string) => {
    console.log(title);
    for (const [name, bytes] of [...map].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
      console.log(`${(bytes / subscribers / 1024).toFixed(2).padStart(8)} KB  ${name}`);
    }
  };
  console.log(
    `setup allocations: ${(total / subscribers / 1024).toFixed(1)} KB per subscriber (sampled, collected objects included)`,
  );
  top(bySite, 'by allocating function:');
  top(byOwn, 'by the nearest caller in src/:');
}

const sourceMaps = new Map<string, SourceMap | null>();

/** Where a frame of the bundled server (npm start runs dist/) was in the sources. */
function originalPosition(url: string, line: number, column: number) {
  let map = sourceMaps.get(url);
  if (map === undefined) {
    const file = url.startsWith('file:') ? fileURLToPath(url) : url;
    map = existsSync(`${file}.map`)
      ? new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')))
      : null;
    sourceMaps.set(url, map);
  }
  const entry = map?.findEntry(line, column);
  return entry && 'originalSource' in entry
    ? { file: entry.originalSource, line: entry.originalLine }
    : { file: url, line };
}
