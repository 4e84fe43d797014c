import { type FormEvent, useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { useCanMutate } from '../auth/session.tsx';
import { ErrorNotice, Fact, Loading, useTitle } from '../components/common.tsx';
import { formatCount } from '../format.ts';
import { graphql } from '../graphql.ts';

const StatsQuery = graphql(`
  query DatasetStats {
    datasetStats {
      totalDocuments
      totalChunks
      trainingAllowed
      trainingAllowedChunks
      byBundesland {
        key
        count
      }
      byDocType {
        key
        count
      }
    }
  }
`);

const Import = graphql(`
  mutation ImportDocuments($file: File!) {
    importDocuments(file: $file) {
      added
      skipped
      rejected
      errors
    }
  }
`);

type Count = { key: string; count: number };

export function DatasetPage() {
  useTitle('Dataset');
  const [result, refetch] = useQuery({ query: StatsQuery });
  const stats = result.data?.datasetStats;
  return (
    <>
      <h1>Dataset</h1>
      {result.error && <ErrorNotice error={result.error} />}
      {!stats && result.fetching && <Loading what="the dataset" />}
      {stats && (
        <>
          <dl className="facts totals">
            <Fact term="Documents">{formatCount(stats.totalDocuments)}</Fact>
            <Fact term="Training allowed">{formatCount(stats.trainingAllowed)}</Fact>
            <Fact term="Chunks">{formatCount(stats.totalChunks)}</Fact>
            <Fact term="Training chunks">{formatCount(stats.trainingAllowedChunks)}</Fact>
          </dl>
          <div className="grid2">
            <Breakdown title="Documents by state" keyLabel="State" counts={stats.byBundesland} />
            <Breakdown title="Documents by type" keyLabel="Type" counts={stats.byDocType} />
          </div>
        </>
      )}
      <ImportForm onImported={() => refetch({ requestPolicy: 'network-only' })} />
    </>
  );
}

/** A bar chart and the same numbers as a table. */
function Breakdown({
  title,
  keyLabel,
  counts,
}: {
  title: string;
  keyLabel: string;
  counts: readonly Count[];
}) {
  const max = Math.max(1, ...counts.map((c) => c.count));
  const id = title.toLowerCase().replaceAll(' ', '-');
  return (
    <section className="card" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      <div className="bars" role="img" aria-label={`${title}, bar chart`}>
        {counts.map(({ key, count }) => (
          <div className="bar" key={key}>
            <span className="bar-key">{key}</span>
            <span className="bar-track">
              <span className="bar-fill" style={{ width: `${(100 * count) / max}%` }} />
            </span>
          </div>
        ))}
      </div>
      <details>
        <summary>Table</summary>
        <table>
          <caption className="visually-hidden">{title}</caption>
          <thead>
            <tr>
              <th scope="col">{keyLabel}</th>
              <th scope="col" className="num">
                Documents
              </th>
            </tr>
          </thead>
          <tbody>
            {counts.map(({ key, count }) => (
              <tr key={key}>
                <th scope="row">{key}</th>
                <td className="num">{formatCount(count)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </section>
  );
}

function ImportForm({ onImported }: { onImported(): void }) {
  const canMutate = useCanMutate();
  const [file, setFile] = useState<File | null>(null);
  const [imported, runImport] = useMutation(Import);
  if (!canMutate) return null;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!file) return;
    const result = await runImport({ file });
    if (result.data) onImported();
  };
  const report = imported.data?.importDocuments;
  return (
    <section className="card" aria-labelledby="import-heading">
      <h2 id="import-heading">Import</h2>
      <form onSubmit={submit} className="inline-form">
        <div className="field">
          <label htmlFor="import-file">Import documents</label>
          <input
            id="import-file"
            type="file"
            accept=".jsonl,.ndjson,application/x-ndjson,application/jsonl,text/plain"
            onChange={(e) => setFile(e.target.files?.[0] ?? null)}
            aria-describedby="import-help"
          />
          <p id="import-help" className="muted small">
            JSON Lines, one document a line:{' '}
            <code>{'{"title", "text", "bundesland", "docType", "trainingAllowed", "source"}'}</code>
            . Bad lines are rejected with their line number; the others load. Files up to the
            server's upload limit (50 MiB unless <code>MAX_UPLOAD_FILE_BYTES</code> says otherwise);
            bigger ones with <code>npm run import</code>.
          </p>
        </div>
        <button type="submit" className="primary" disabled={!file || imported.fetching}>
          {imported.fetching ? 'Importing…' : 'Import'}
        </button>
      </form>
      {imported.error && <ErrorNotice error={imported.error} />}
      {report && (
        <div role="status" className="report">
          <p>
            <strong>{formatCount(report.added)}</strong> added,{' '}
            <strong>{formatCount(report.skipped)}</strong> skipped (already stored),{' '}
            <strong>{formatCount(report.rejected)}</strong> rejected.
          </p>
          {report.errors.length > 0 && (
            <ul className="line-errors">
              {report.errors.map((line) => (
                <li key={line}>{line}</li>
              ))}
            </ul>
          )}
        </div>
      )}
    </section>
  );
}
