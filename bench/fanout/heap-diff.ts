/**
 * Compares two V8 heap snapshots of the fan-out's server (taken by `BENCH_HEAP_SNAPSHOTS`, see
 * run.ts: one before the subscribers connect, one after) and prints what each subscriber keeps
 * alive, by constructor: objects and bytes (V8's self size) gained per subscriber, largest first.
 * Object counts are deterministic, so the table holds under load, where RSS does not.
 *
 * Usage: `npx tsx bench/fanout/heap-diff.ts before.heapsnapshot after.heapsnapshot N [rows]`.
 */
import { readFileSync } from 'node:fs';

type Snapshot = {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
};

type Tally = Map<string, { count: number; bytes: number }>;

/** Objects and bytes by `type:name` (name: the constructor, or a closure's function name). */
export function tally(file: string): Tally {
  const { snapshot, nodes, strings } = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = snapshot.meta.node_fields;
  const types = snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const byKey: Tally = new Map();
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + typeAt]!]!;
    const raw = type === 'string' || type === 'number' ? '' : strings[nodes[i + nameAt]!]!;
    // Names of system objects carry addresses and the like; the first word is the kind.
    const name = type === 'hidden' || type === 'code' ? raw.split(/[\s/]/)[0]! : raw.slice(0, 60);
    const key = `${type}:${name}`;
    const entry = byKey.get(key) ?? { count: 0, bytes: 0 };
    entry.count += 1;
    entry.bytes += nodes[i + sizeAt]!;
    byKey.set(key, entry);
  }
  return byKey;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [beforeFile, afterFile, n, rows = '40'] = process.argv.slice(2);
  if (!beforeFile || !afterFile || !n) {
    console.error('usage: heap-diff.ts before.heapsnapshot after.heapsnapshot N [rows]');
    process.exit(2);
  }
  const subscribers = Number(n);
  const before = tally(beforeFile);
  const after = tally(afterFile);
  const diff = [...after].map(([key, a]) => {
    const b = before.get(key) ?? { count: 0, bytes: 0 };
    return {
      key,
      count: (a.count - b.count) / subscribers,
      bytes: (a.bytes - b.bytes) / subscribers,
    };
  });
  diff.sort((x, y) => y.bytes - x.bytes);
  const total = diff.reduce((sum, d) => sum + d.bytes, 0);
  const objects = diff.reduce((sum, d) => sum + d.count, 0);
  console.log(
    `per subscriber (N=${subscribers}): ${objects.toFixed(1)} objects, ${(total / 1024).toFixed(2)} KB of V8 heap (self sizes)`,
  );
  for (const d of diff.slice(0, Number(rows))) {
    console.log(`${d.count.toFixed(2).padStart(8)} ${d.bytes.toFixed(0).padStart(7)} B  ${d.key}`);
  }
}
