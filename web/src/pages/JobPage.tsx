import { useEffect, useRef, useState } from 'react';
import { useClient, useMutation, useQuery } from 'urql';
import { errorMessage } from '../api/errors.ts';
import { useCanMutate } from '../auth/session.tsx';
import { ErrorNotice, Fact, Loading, StatusBadge, useTitle } from '../components/common.tsx';
import { LossCurve } from '../components/LossCurve.tsx';
import { formatCount, formatDate, formatDuration, formatLoss, formatRate } from '../format.ts';
import { graphql, type ResultOf } from '../graphql.ts';
import { allows, isTerminal, type JobAction } from '../jobs/actions.ts';
import { MetricSeries, type Point } from '../jobs/metric-series.ts';
import { Link, navigate } from '../router.tsx';
import { ActivationDecision, EvaluationFields } from '../trust/Activation.tsx';
import {
  PlanDetails,
  PlanFields,
  TrainersChoice,
  type TrainingPlan,
} from '../trust/PlanDetails.tsx';
import { ValidationFields, ValidationResults } from '../trust/ValidationResults.tsx';

const JobDetail = graphql(`
  fragment JobDetail on TrainingJob {
    id
    name
    modelType
    status
    progress
    currentEpoch
    totalEpochs
    currentStep
    totalSteps
    loss
    valLoss
    learningRate
    documentsProcessed
    totalDocuments
    queuePosition
    createdAt
    startedAt
    estimatedCompletion
    completedAt
    errorMessage
    config {
      bundeslaender
      batchSize
      learningRate
      epochs
      warmupSteps
      weightDecay
      gradientAccumulation
      mixedPrecision
      seed
      activation
      defaultsApplied
    }
  }
`);

const PointFields = graphql(`
  fragment PointFields on MetricPoint {
    step
    loss
    valLoss
    learningRate
  }
`);

/**
 * The chart shows the whole run as `curve` returns it (at most CURVE_POINTS points that keep its
 * shape), then every live point. Once it holds HELD_POINTS_MAX points it loads the curve of the
 * run so far again, at CURVE_POINTS, so memory stays bounded however long the run streams.
 */
const CURVE_POINTS = 2000;
const HELD_POINTS_MAX = 10_000;

const JobQuery = graphql(
  `
  query Job($id: ID!, $points: Int!) {
    trainingJob(id: $id) {
      ...JobDetail
      plan {
        ...PlanFields
      }
      curve(maxPoints: $points) {
        ...PointFields
      }
    }
  }
`,
  [JobDetail, PlanFields, PointFields],
);

/** A completed job's validation and the version it made: asked for once, when it completed. */
const ResultsQuery = graphql(
  `
  query JobResults($id: ID!) {
    trainingJob(id: $id) {
      id
      metrics {
        ...ValidationFields
      }
      modelVersion {
        id
        version
        isActive
        evaluation {
          ...EvaluationFields
        }
      }
    }
  }
`,
  [ValidationFields, EvaluationFields],
);

const CurveQuery = graphql(
  `
  query JobCurve($id: ID!, $points: Int!) {
    trainingJob(id: $id) {
      id
      curve(maxPoints: $points) {
        ...PointFields
      }
    }
  }
`,
  [PointFields],
);

const JobProgress = graphql(
  `
  subscription JobProgress($jobId: ID!, $afterStep: Int) {
    trainingProgress(jobId: $jobId, afterStep: $afterStep) {
      elapsedTimeMs
      estimatedRemainingMs
      job {
        ...JobDetail
      }
      newPoints {
        ...PointFields
      }
    }
  }
`,
  [JobDetail, PointFields],
);

const Pause = graphql(
  `
  mutation PauseJob($id: ID!) {
    pauseTrainingJob(id: $id) {
      ...JobDetail
    }
  }
`,
  [JobDetail],
);
const Resume = graphql(
  `
  mutation ResumeJob($id: ID!) {
    resumeTrainingJob(id: $id) {
      ...JobDetail
    }
  }
`,
  [JobDetail],
);
const Cancel = graphql(
  `
  mutation CancelJob($id: ID!) {
    cancelTrainingJob(id: $id) {
      ...JobDetail
    }
  }
`,
  [JobDetail],
);
const Delete = graphql(`
  mutation DeleteJob($id: ID!) {
    deleteTrainingJob(id: $id)
  }
`);

type Job = ResultOf<typeof JobDetail>;
type Timing = { elapsedTimeMs: number; estimatedRemainingMs: number | null };

export function JobPage({ id }: { id: string }) {
  const [result] = useQuery({
    query: JobQuery,
    variables: { id, points: CURVE_POINTS },
    // the chart's first points must be current: live points continue from the last one
    requestPolicy: 'network-only',
  });
  useTitle(result.data?.trainingJob?.name ?? 'Job');

  if (result.error) return <ErrorNotice error={result.error} />;
  if (!result.data) return <Loading what="the job" />;
  const job = result.data.trainingJob;
  if (!job) {
    return (
      <>
        <h1>Job not found</h1>
        <p>
          There is no job with this ID (it may have been deleted).{' '}
          <Link to="/jobs">Back to the training jobs.</Link>
        </p>
      </>
    );
  }
  return <LiveJob key={job.id} initial={job} plan={job.plan} curve={job.curve} />;
}

/** The job as its `trainingProgress` stream tells it, with every point drawn once. */
function LiveJob({
  initial,
  plan,
  curve,
}: {
  initial: Job;
  plan: TrainingPlan | null;
  curve: readonly Point[];
}) {
  const client = useClient();
  // From here on the stream is the source of truth: later refetches of the query (a mutation's
  // result invalidates it) must not restart the chart or the stream.
  const [series] = useState(() => {
    const s = new MetricSeries();
    s.append(curve);
    return s;
  });
  const [job, setJob] = useState(initial);
  const [timing, setTiming] = useState<Timing | null>(null);
  const [version, setVersion] = useState(0);
  const [gone, setGone] = useState<string | null>(null);

  useEffect(() => {
    let reloading = false;
    let open = true;
    const reloadCurve = async () => {
      reloading = true;
      const result = await client
        .query(
          CurveQuery,
          { id: initial.id, points: CURVE_POINTS },
          { requestPolicy: 'network-only' },
        )
        .toPromise();
      reloading = false;
      const points = result.data?.trainingJob?.curve;
      if (points && open) {
        series.rebase(points);
        setVersion((v) => v + 1);
      }
    };
    const subscription = client
      // replays the points after the last one drawn: none is lost between query and stream
      .subscription(JobProgress, { jobId: initial.id, afterStep: series.lastStep ?? 0 })
      .subscribe((event) => {
        const progress = event.data?.trainingProgress;
        if (progress) {
          setJob(progress.job);
          setTiming(progress);
          if (series.append(progress.newPoints) > 0) setVersion((v) => v + 1);
          if (series.length > HELD_POINTS_MAX && !reloading) void reloadCurve();
        } else if (event.error) {
          setGone(errorMessage(event.error));
        }
      });
    return () => {
      open = false;
      subscription.unsubscribe();
    };
  }, [client, initial.id, series]);

  return (
    <>
      <p className="crumbs">
        <Link to="/jobs">Training jobs</Link>
      </p>
      <div className="page-head">
        <h1>{job.name}</h1>
        <JobActions job={job} onChange={setJob} />
      </div>
      {gone && (
        <p role="alert" className="error">
          {gone}
        </p>
      )}
      <StatusLine job={job} timing={timing} />
      <section className="card" aria-labelledby="curve-heading">
        <h2 id="curve-heading">Loss curve</h2>
        <LossCurve series={series} version={version} />
      </section>
      <div className="grid2">
        <ProgressFacts job={job} />
        <ConfigFacts job={job} />
      </div>
      {job.status === 'COMPLETED' && <Results jobId={job.id} />}
      {plan && (
        <section className="card" aria-labelledby="plan-heading">
          <h2 id="plan-heading">Plan</h2>
          <p className="muted small">As computed when the job was created.</p>
          <PlanDetails plan={plan} trainerChose={job.config.defaultsApplied} />
        </section>
      )}
    </>
  );
}

function StatusLine({ job, timing }: { job: Job; timing: Timing | null }) {
  return (
    <div className="status-line">
      <p>
        Status: <StatusBadge status={job.status} />
        {job.status === 'QUEUED' && job.queuePosition != null && (
          <span className="muted"> (#{job.queuePosition} in the queue)</span>
        )}
      </p>
      <progress max={100} value={job.progress} aria-label="Progress" />
      <p className="muted">
        {job.progress.toFixed(1)} %
        {timing && timing.elapsedTimeMs > 0 && (
          <> · running {formatDuration(timing.elapsedTimeMs)}</>
        )}
        {timing?.estimatedRemainingMs != null && !isTerminal(job.status) && (
          <> · about {formatDuration(timing.estimatedRemainingMs)} left</>
        )}
      </p>
      {job.errorMessage && (
        <p role="alert" className="error">
          {job.errorMessage}
        </p>
      )}
    </div>
  );
}

const ACTIONS: Array<{ action: JobAction; label: string }> = [
  { action: 'pause', label: 'Pause' },
  { action: 'resume', label: 'Resume' },
  { action: 'cancel', label: 'Cancel' },
  { action: 'delete', label: 'Delete' },
];

/** The state machine's buttons, each enabled only when the job's status allows it. */
function JobActions({ job, onChange }: { job: Job; onChange(job: Job): void }) {
  const canMutate = useCanMutate();
  const [pause, runPause] = useMutation(Pause);
  const [resume, runResume] = useMutation(Resume);
  const [cancel, runCancel] = useMutation(Cancel);
  const [deletion, runDelete] = useMutation(Delete);
  const dialog = useRef<HTMLDialogElement>(null);
  if (!canMutate) return null;

  const busy = pause.fetching || resume.fetching || cancel.fetching || deletion.fetching;
  const error = pause.error ?? resume.error ?? cancel.error ?? deletion.error;
  const run = async (action: JobAction) => {
    if (action === 'delete') {
      dialog.current?.showModal();
      return;
    }
    const runner = { pause: runPause, resume: runResume, cancel: runCancel }[action];
    const result = await runner({ id: job.id });
    const data = result.data;
    if (data) {
      onChange(
        'pauseTrainingJob' in data
          ? data.pauseTrainingJob
          : 'resumeTrainingJob' in data
            ? data.resumeTrainingJob
            : data.cancelTrainingJob,
      );
    }
  };
  const confirmDelete = async () => {
    const result = await runDelete(
      { id: job.id },
      { additionalTypenames: ['TrainingJob', 'TrainingJobConnection'] },
    );
    dialog.current?.close();
    if (result.data) navigate('/jobs');
  };

  return (
    <div className="job-actions">
      <fieldset className="button-row" aria-label="Actions" disabled={busy}>
        {ACTIONS.map(({ action, label }) => (
          <button
            key={action}
            type="button"
            className={action === 'delete' ? 'danger' : undefined}
            disabled={!allows(job.status, action)}
            onClick={() => run(action)}
          >
            {label}
          </button>
        ))}
      </fieldset>
      {error && <ErrorNotice error={error} />}
      <dialog ref={dialog} aria-labelledby="delete-title">
        <h2 id="delete-title">Delete “{job.name}”?</h2>
        <p>The job and its metric history are removed for good. Its model version stays.</p>
        <div className="button-row">
          <button type="button" onClick={() => dialog.current?.close()}>
            Keep
          </button>
          <button type="button" className="danger" onClick={confirmDelete}>
            Delete job
          </button>
        </div>
      </dialog>
    </div>
  );
}

function ProgressFacts({ job }: { job: Job }) {
  return (
    <section className="card" aria-labelledby="progress-heading">
      <h2 id="progress-heading">Progress</h2>
      <dl className="facts">
        <Fact term="Step">
          {job.totalSteps > 0
            ? `${formatCount(job.currentStep)} of ${formatCount(job.totalSteps)}`
            : '—'}
        </Fact>
        <Fact term="Epoch">
          {job.currentEpoch} of {job.totalEpochs}
        </Fact>
        <Fact term="Documents">
          {formatCount(job.documentsProcessed)} of {formatCount(job.totalDocuments)}
        </Fact>
        <Fact term="Training loss">{formatLoss(job.loss)}</Fact>
        <Fact term="Validation loss">{formatLoss(job.valLoss)}</Fact>
        <Fact term="Learning rate">{formatRate(job.learningRate)}</Fact>
        <Fact term="Created">{formatDate(job.createdAt)}</Fact>
        <Fact term="Started">{formatDate(job.startedAt)}</Fact>
        {job.completedAt ? (
          <Fact term="Ended">{formatDate(job.completedAt)}</Fact>
        ) : (
          <Fact term="Estimated completion">{formatDate(job.estimatedCompletion)}</Fact>
        )}
      </dl>
    </section>
  );
}

function ConfigFacts({ job }: { job: Job }) {
  const c = job.config;
  return (
    <section className="card" aria-labelledby="config-heading">
      <h2 id="config-heading">Configuration</h2>
      <dl className="facts">
        <Fact term="Model type">{job.modelType}</Fact>
        <Fact term="States">{c.bundeslaender.join(', ')}</Fact>
        <Fact term="Epochs">{c.epochs}</Fact>
        <Fact term="Batch size">{c.batchSize}</Fact>
        <Fact term="Learning rate">
          {formatRate(c.learningRate)}
          <TrainersChoice field="learningRate" applied={c.defaultsApplied} />
        </Fact>
        <Fact term="Warm-up steps">
          {c.warmupSteps}
          <TrainersChoice field="warmupSteps" applied={c.defaultsApplied} />
        </Fact>
        <Fact term="Weight decay">{c.weightDecay}</Fact>
        <Fact term="Gradient accumulation">{c.gradientAccumulation}</Fact>
        <Fact term="Mixed precision">{c.mixedPrecision ? 'yes' : 'no'}</Fact>
        <Fact term="Seed">{c.seed}</Fact>
        <Fact term="Activation">{ACTIVATION_POLICIES[c.activation]}</Fact>
      </dl>
    </section>
  );
}

const ACTIVATION_POLICIES: Record<Job['config']['activation'], string> = {
  IF_BETTER: 'if better',
  ALWAYS: 'always',
  MANUAL: 'by hand only',
};

/** Once completed: the validation against the baseline, and whether its version serves. */
function Results({ jobId }: { jobId: string }) {
  const [result] = useQuery({
    query: ResultsQuery,
    variables: { id: jobId },
    requestPolicy: 'network-only',
  });
  const job = result.data?.trainingJob;
  const version = job?.modelVersion;
  return (
    <section className="card" aria-labelledby="results-heading">
      <h2 id="results-heading">Results</h2>
      {result.error && <ErrorNotice error={result.error} />}
      {!job && result.fetching && <Loading what="the results" />}
      {job && <ValidationResults report={job.metrics} />}
      {job && (
        <div className="decision">
          <h3>Activation</h3>
          {version ? (
            <>
              <p>
                Model version <Link to="/models">{version.version}</Link>
                {version.isActive ? (
                  <>
                    {' '}
                    <span className="badge active">Active</span>
                  </>
                ) : (
                  ' (not serving)'
                )}
              </p>
              {version.evaluation ? (
                <ActivationDecision evaluation={version.evaluation} />
              ) : (
                <p className="muted">No activation decision: the version predates them.</p>
              )}
            </>
          ) : (
            <p className="muted">No model version.</p>
          )}
        </div>
      )}
    </section>
  );
}
