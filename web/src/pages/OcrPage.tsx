import { type FormEvent, useEffect, useState } from 'react';
import { useClient, useMutation } from 'urql';
import { errorMessage } from '../api/errors.ts';
import { useCanMutate } from '../auth/session.tsx';
import { ErrorNotice, useTitle } from '../components/common.tsx';
import { formatDuration, formatPercent } from '../format.ts';
import { graphql, type ResultOf } from '../graphql.ts';

const ResultFields = graphql(`
  fragment OcrResultFields on OcrResult {
    index
    filename
    text
    confidence
    processingTimeMs
    fromCache
    error
  }
`);

const CreateBatch = graphql(`
  mutation CreateOcrBatch($images: [File!]!, $language: String!) {
    createOcrBatch(images: $images, language: $language) {
      id
    }
  }
`);

const BatchEvents = graphql(
  `
  subscription OcrBatchEvents($batchId: ID!) {
    ocrBatch(batchId: $batchId) {
      __typename
      ... on OcrImageProgress {
        current
        total
        progressPercent
        estimatedRemainingMs
        result {
          ...OcrResultFields
        }
      }
      ... on OcrBatchComplete {
        totalTimeMs
        processedCount
        failedCount
      }
    }
  }
`,
  [ResultFields],
);

type OcrResult = ResultOf<typeof ResultFields>;
type Batch = {
  id: string;
  files: string[];
  results: Map<number, OcrResult>;
  percent: number;
  remainingMs: number | null;
  done: { totalTimeMs: number; failedCount: number } | null;
  error: string | null;
};

const LANGUAGES = [
  { value: 'deu', label: 'German' },
  { value: 'eng', label: 'English' },
  { value: 'deu+eng', label: 'German and English' },
];

export function OcrPage() {
  useTitle('OCR');
  const canMutate = useCanMutate();
  const [files, setFiles] = useState<File[]>([]);
  const [language, setLanguage] = useState('deu');
  const [created, create] = useMutation(CreateBatch);
  const [batch, setBatch] = useState<Batch | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!files.length) return;
    const result = await create({ images: files, language });
    const id = result.data?.createOcrBatch.id;
    if (id) {
      setBatch({
        id,
        files: files.map((f) => f.name),
        results: new Map(),
        percent: 0,
        remainingMs: null,
        done: null,
        error: null,
      });
    }
  };

  return (
    <>
      <h1>OCR</h1>
      <p className="muted">
        Reads the text of images (PNG, JPEG, TIFF, BMP, WebP) with tesseract, on the server.
      </p>
      {canMutate ? (
        <form className="card inline-form" onSubmit={submit}>
          <div className="field">
            <label htmlFor="ocr-images">Images</label>
            <input
              id="ocr-images"
              type="file"
              accept="image/*"
              multiple
              onChange={(e) => setFiles([...(e.target.files ?? [])])}
            />
          </div>
          <div className="field">
            <label htmlFor="ocr-language">Language</label>
            <select
              id="ocr-language"
              value={language}
              onChange={(e) => setLanguage(e.target.value)}
            >
              {LANGUAGES.map((l) => (
                <option key={l.value} value={l.value}>
                  {l.label}
                </option>
              ))}
            </select>
          </div>
          <button
            type="submit"
            className="primary"
            disabled={!files.length || created.fetching || (batch !== null && !batch.done)}
          >
            Start OCR
          </button>
        </form>
      ) : (
        <p>Reading images needs the admin role.</p>
      )}
      {created.error && <ErrorNotice error={created.error} />}
      {batch && <BatchProgress key={batch.id} initial={batch} onChange={setBatch} />}
    </>
  );
}

/** Follows the batch's `ocrBatch` stream: one event per image, then the summary. */
function BatchProgress({ initial, onChange }: { initial: Batch; onChange(b: Batch): void }) {
  const client = useClient();
  const [batch, setBatch] = useState(initial);

  useEffect(() => {
    const subscription = client
      .subscription(BatchEvents, { batchId: initial.id })
      .subscribe((event) => {
        const data = event.data?.ocrBatch;
        setBatch((current) => {
          let next = current;
          if (event.error) next = { ...current, error: errorMessage(event.error) };
          else if (data?.__typename === 'OcrImageProgress') {
            const results = new Map(current.results);
            results.set(data.result.index, data.result);
            next = {
              ...current,
              results,
              percent: data.progressPercent,
              remainingMs: data.estimatedRemainingMs,
            };
          } else if (data?.__typename === 'OcrBatchComplete') {
            next = {
              ...current,
              percent: 100,
              done: { totalTimeMs: data.totalTimeMs, failedCount: data.failedCount },
            };
          }
          return next;
        });
      });
    return () => subscription.unsubscribe();
  }, [client, initial.id]);

  useEffect(() => onChange(batch), [batch, onChange]);

  return (
    <section className="card" aria-labelledby="batch-heading">
      <h2 id="batch-heading">Results</h2>
      <progress max={100} value={batch.percent} aria-label="OCR progress" />
      <p role="status" className="muted">
        {batch.done
          ? `Done: ${batch.files.length} images in ${formatDuration(batch.done.totalTimeMs)}${batch.done.failedCount ? `, ${batch.done.failedCount} failed` : ''}.`
          : `${batch.results.size} of ${batch.files.length} images read${batch.remainingMs != null ? `, about ${formatDuration(batch.remainingMs)} left` : ''}…`}
      </p>
      {batch.error && (
        <p role="alert" className="error">
          {batch.error}
        </p>
      )}
      <ol className="ocr-results">
        {batch.files.map((name, index) => {
          const result = batch.results.get(index);
          return (
            // biome-ignore lint/suspicious/noArrayIndexKey: the position in the upload is the image's identity in the API (OcrResult.index)
            <li key={index} className="ocr-result">
              <div className="ocr-head">
                <strong>{result?.filename ?? name}</strong>
                <span className="muted small">
                  {!result
                    ? 'waiting…'
                    : result.error
                      ? 'failed'
                      : `confidence ${formatPercent(result.confidence)} · ${formatDuration(result.processingTimeMs)}${result.fromCache ? ' · from cache' : ''}`}
                </span>
              </div>
              {result?.error && <p className="error">{result.error}</p>}
              {result?.text != null && <pre className="ocr-text">{result.text}</pre>}
            </li>
          );
        })}
      </ol>
    </section>
  );
}
