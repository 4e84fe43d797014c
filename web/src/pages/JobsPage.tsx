import { useEffect, useState } from 'react';
import { useQuery, useSubscription } from 'urql';
import { useCanMutate } from '../auth/session.tsx';
import { Empty, ErrorNotice, Loading, StatusBadge, useTitle } from '../components/common.tsx';
import { formatDate, formatLoss } from '../format.ts';
import { graphql, type ResultOf } from '../graphql.ts';
import { isTerminal } from '../jobs/actions.ts';
import { JobRowFields } from '../jobs/fragments.ts';
import { Link, navigate } from '../router.tsx';

const PAGE = 25;
const MAX = 100;
// Rows of running jobs update through their subscriptions; this catches jobs created elsewhere.
const REFRESH_MS = 5000;

const JobsQuery = graphql(
  `
  query Jobs($first: Int!) {
    trainingStatus {
      totalJobs
      runningJobs
      queuedJobs
      completedJobs
      failedJobs
    }
    trainingJobs(first: $first) {
      edges {
        node {
          ...JobRowFields
        }
      }
      pageInfo {
        hasNextPage
      }
    }
  }
`,
  [JobRowFields],
);

const JobRowProgress = graphql(
  `
  subscription JobRowProgress($jobId: ID!) {
    trainingProgress(jobId: $jobId) {
      job {
        ...JobRowFields
      }
    }
  }
`,
  [JobRowFields],
);

type Job = ResultOf<typeof JobRowFields>;

export function JobsPage() {
  useTitle('Training jobs');
  const canMutate = useCanMutate();
  const [first, setFirst] = useState(PAGE);
  const [result, refetch] = useQuery({ query: JobsQuery, variables: { first } });

  useEffect(() => {
    const timer = setInterval(() => refetch({ requestPolicy: 'network-only' }), REFRESH_MS);
    return () => clearInterval(timer);
  }, [refetch]);

  const status = result.data?.trainingStatus;
  const jobs = result.data?.trainingJobs.edges.map((e) => e.node) ?? [];
  return (
    <>
      <div className="page-head">
        <h1>Training jobs</h1>
        {canMutate && (
          <button type="button" className="primary" onClick={() => navigate('/jobs/new')}>
            New job
          </button>
        )}
      </div>
      {status && (
        <p className="summary">
          {status.totalJobs} jobs: {status.runningJobs} running, {status.queuedJobs} queued,{' '}
          {status.completedJobs} completed, {status.failedJobs} failed
        </p>
      )}
      {result.error && <ErrorNotice error={result.error} />}
      {!result.data && result.fetching && <Loading what="jobs" />}
      {result.data && jobs.length === 0 && (
        <Empty>
          No training jobs yet. {canMutate ? 'Start one with New job.' : 'An admin can start one.'}
        </Empty>
      )}
      {jobs.length > 0 && (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">Training jobs, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Model type</th>
                <th scope="col">Status</th>
                <th scope="col">Progress</th>
                <th scope="col" className="num">
                  Step
                </th>
                <th scope="col" className="num">
                  Loss
                </th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {jobs.map((job) =>
                isTerminal(job.status) ? (
                  <JobRow key={job.id} job={job} />
                ) : (
                  <LiveJobRow key={job.id} job={job} />
                ),
              )}
            </tbody>
          </table>
        </div>
      )}
      {result.data?.trainingJobs.pageInfo.hasNextPage &&
        (first < MAX ? (
          <button type="button" onClick={() => setFirst(Math.min(MAX, first + PAGE))}>
            Show more
          </button>
        ) : (
          <p className="muted">The newest {MAX} jobs are shown.</p>
        ))}
    </>
  );
}

/** A row that follows its job's `trainingProgress` until the job ends. */
function LiveJobRow({ job }: { job: Job }) {
  const [live] = useSubscription(
    { query: JobRowProgress, variables: { jobId: job.id } },
    (_previous: Job | undefined, event) => event.trainingProgress.job,
  );
  return <JobRow job={live.data ?? job} />;
}

function JobRow({ job }: { job: Job }) {
  const step = job.totalSteps > 0 ? `${job.currentStep} / ${job.totalSteps}` : '—';
  return (
    <tr>
      <th scope="row">
        <Link to={`/jobs/${encodeURIComponent(job.id)}`}>{job.name}</Link>
      </th>
      <td>{job.modelType}</td>
      <td>
        <StatusBadge status={job.status} />
        {job.status === 'QUEUED' && job.queuePosition != null && (
          <span className="muted small"> #{job.queuePosition} in queue</span>
        )}
      </td>
      <td>
        <div className="progress-cell">
          <progress max={100} value={job.progress} aria-label={`Progress of ${job.name}`} />
          <span className="num">{job.progress.toFixed(0)} %</span>
        </div>
      </td>
      <td className="num">{step}</td>
      <td className="num">{formatLoss(job.loss)}</td>
      <td>{formatDate(job.createdAt)}</td>
    </tr>
  );
}
