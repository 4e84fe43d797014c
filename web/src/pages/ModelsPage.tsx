import { useMutation, useQuery } from 'urql';
import { useCanMutate } from '../auth/session.tsx';
import { Empty, ErrorNotice, Loading, useTitle } from '../components/common.tsx';
import { formatDate, formatPercent } from '../format.ts';
import { graphql } from '../graphql.ts';
import { MODEL_TYPE_LIST, MODEL_TYPES, type ModelType } from '../jobs/model-types.ts';
import { Link } from '../router.tsx';
import { ActivationFields, ActivationHistory } from '../trust/Activation.tsx';

/** The newest activations shown per model type. */
const HISTORY = 20;

const VersionsQuery = graphql(
  `
  query ModelVersions($modelType: ModelType!, $history: Int!) {
    modelVersions(modelType: $modelType, first: 100) {
      edges {
        node {
          id
          version
          createdAt
          isActive
          sizeMb
          bundeslaender
          metrics {
            accuracy
            f1Score
          }
          job {
            id
            name
          }
        }
      }
      pageInfo {
        hasNextPage
      }
    }
    modelActivations(modelType: $modelType, first: $history) {
      edges {
        node {
          ...ActivationFields
        }
      }
    }
  }
`,
  [ActivationFields],
);

const Activate = graphql(`
  mutation ActivateModelVersion($id: ID!) {
    activateModelVersion(id: $id) {
      id
      isActive
    }
  }
`);

const RollBack = graphql(`
  mutation RollBackModel($modelType: ModelType!) {
    rollbackModel(modelType: $modelType) {
      id
      isActive
    }
  }
`);

// A mutation that returns a ModelVersion refetches the page's queries that hold one; a type
// without versions yet holds none, and must still follow.
const FOLLOWS_VERSIONS = { additionalTypenames: ['ModelVersion'] };

export function ModelsPage() {
  useTitle('Models');
  return (
    <>
      <h1>Models</h1>
      <p className="muted">
        Each model type serves with at most one version, marked Active. Every completed job adds a
        version, which becomes active as its job's activation setting says; Roll back returns to the
        version active before.
      </p>
      {MODEL_TYPE_LIST.map((type) => (
        <ModelTypeSection key={type} type={type} />
      ))}
    </>
  );
}

function ModelTypeSection({ type }: { type: ModelType }) {
  const canMutate = useCanMutate();
  const [result] = useQuery({
    query: VersionsQuery,
    variables: { modelType: type, history: HISTORY },
    context: FOLLOWS_VERSIONS,
  });
  const [activation, activate] = useMutation(Activate);
  const [rollback, rollBack] = useMutation(RollBack);
  const headingId = `models-${type}`;
  const versions = result.data?.modelVersions.edges.map((e) => e.node) ?? [];
  const activations = result.data?.modelActivations.edges.map((e) => e.node) ?? [];
  const busy = activation.fetching || rollback.fetching;
  return (
    <section className="card" aria-labelledby={headingId}>
      <h2 id={headingId}>
        {type} <span className="muted">· {MODEL_TYPES[type]}</span>
      </h2>
      {result.error && <ErrorNotice error={result.error} />}
      {activation.error && <ErrorNotice error={activation.error} />}
      {rollback.error && <ErrorNotice error={rollback.error} />}
      {!result.data && result.fetching && <Loading what="versions" />}
      {result.data && versions.length === 0 && (
        <Empty>No versions yet: a completed {type} job makes the first.</Empty>
      )}
      {versions.length > 0 && (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">{type} model versions, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Serving</th>
                <th scope="col" className="num">
                  Accuracy
                </th>
                <th scope="col" className="num">
                  Macro-F1
                </th>
                <th scope="col">States</th>
                <th scope="col" className="num">
                  Size
                </th>
                <th scope="col">Job</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {versions.map((v) => (
                <tr key={v.id} className={v.isActive ? 'active-row' : undefined}>
                  <th scope="row" id={`${headingId}-${v.version}`}>
                    {v.version}
                  </th>
                  <td>
                    {v.isActive ? (
                      <span className="badge active">Active</span>
                    ) : canMutate ? (
                      <button
                        type="button"
                        disabled={busy}
                        onClick={() => activate({ id: v.id })}
                        aria-describedby={`${headingId}-${v.version}`}
                      >
                        Activate
                      </button>
                    ) : (
                      <span className="muted">—</span>
                    )}
                  </td>
                  <td className="num">{formatPercent(v.metrics.accuracy)}</td>
                  <td className="num">{formatPercent(v.metrics.f1Score)}</td>
                  <td>{v.bundeslaender.join(', ')}</td>
                  <td className="num">{v.sizeMb.toFixed(2)} MiB</td>
                  <td>
                    {v.job ? (
                      <Link to={`/jobs/${encodeURIComponent(v.job.id)}`}>{v.job.name}</Link>
                    ) : (
                      <span className="muted">deleted</span>
                    )}
                  </td>
                  <td>{formatDate(v.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {result.data?.modelVersions.pageInfo.hasNextPage && (
        <p className="muted">The newest 100 versions are shown.</p>
      )}
      {result.data && (
        <ActivationHistory
          activations={activations}
          headingId={`${headingId}-history`}
          onRollBack={canMutate ? () => rollBack({ modelType: type }) : undefined}
          rollingBack={busy}
        />
      )}
    </section>
  );
}
