import { type FormEvent, type ReactNode, useId, useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { fieldErrors } from '../api/errors.ts';
import { useCanMutate } from '../auth/session.tsx';
import { ErrorNotice, Loading, useTitle } from '../components/common.tsx';
import { formatCount } from '../format.ts';
import { graphql, type VariablesOf } from '../graphql.ts';
import { MODEL_TYPE_LIST, MODEL_TYPES, type ModelType } from '../jobs/model-types.ts';
import { Link, navigate } from '../router.tsx';

const StatesQuery = graphql(`
  query NewJobStates {
    datasetStats {
      byBundesland {
        key
        count
      }
    }
  }
`);

const PlanQuery = graphql(`
  query NewJobPlan($states: [String!]) {
    datasetStats(bundeslaender: $states) {
      trainingAllowed
      trainingAllowedChunks
    }
  }
`);

const CreateJob = graphql(`
  mutation CreateJob($input: TrainingConfigInput!) {
    createTrainingJob(input: $input) {
      id
    }
  }
`);

type Input = VariablesOf<typeof CreateJob>['input'];

type Form = {
  name: string;
  modelType: ModelType;
  states: string[];
  epochs: string;
  batchSize: string;
  learningRate: string;
  warmupSteps: string;
  weightDecay: string;
  gradientAccumulation: string;
  seed: string;
  mixedPrecision: boolean;
};

// The schema's defaults, shown so that people see what they get; a cleared field is left out
// and the API applies its default.
const INITIAL: Form = {
  name: '',
  modelType: 'ZEUGNIS',
  states: [],
  epochs: '10',
  batchSize: '16',
  learningRate: '',
  warmupSteps: '500',
  weightDecay: '0.01',
  gradientAccumulation: '4',
  seed: '42',
  mixedPrecision: true,
};

type NumberName =
  | 'epochs'
  | 'batchSize'
  | 'learningRate'
  | 'warmupSteps'
  | 'weightDecay'
  | 'gradientAccumulation'
  | 'seed';
type NumberSpec = { label: string; name: NumberName; step?: string };

const MAIN_NUMBERS: NumberSpec[] = [
  { label: 'Epochs', name: 'epochs' },
  { label: 'Batch size', name: 'batchSize' },
  { label: 'Learning rate', name: 'learningRate', step: 'any' },
];
const MORE_NUMBERS: NumberSpec[] = [
  { label: 'Warm-up steps', name: 'warmupSteps' },
  { label: 'Weight decay', name: 'weightDecay', step: 'any' },
  { label: 'Gradient accumulation', name: 'gradientAccumulation' },
  { label: 'Seed', name: 'seed' },
];

function toInput(form: Form): Input {
  const input: Input = {
    name: form.name,
    modelType: form.modelType,
    bundeslaender: form.states,
    mixedPrecision: form.mixedPrecision,
  };
  for (const { name } of [...MAIN_NUMBERS, ...MORE_NUMBERS]) {
    const text = form[name].trim();
    if (text !== '') input[name] = Number(text);
  }
  return input;
}

export function NewJobPage() {
  useTitle('New job');
  const canMutate = useCanMutate();
  const [form, setForm] = useState(INITIAL);
  const [created, create] = useMutation(CreateJob);
  const errors = fieldErrors(created.error);
  const set = <K extends keyof Form>(key: K, value: Form[K]) =>
    setForm((current) => ({ ...current, [key]: value }));

  if (!canMutate) {
    return (
      <>
        <h1>New job</h1>
        <p>Creating jobs needs the admin role.</p>
      </>
    );
  }

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const result = await create({ input: toInput(form) });
    const id = result.data?.createTrainingJob.id;
    if (id) navigate(`/jobs/${encodeURIComponent(id)}`);
  };

  return (
    <>
      <p className="crumbs">
        <Link to="/jobs">Training jobs</Link>
      </p>
      <h1>New job</h1>
      <div className="new-job">
        <form className="card form" onSubmit={submit} noValidate>
          {errors.other.map((message) => (
            <p key={message} role="alert" className="error">
              {message}
            </p>
          ))}
          <Field label="Name" name="name" error={errors.byField.name}>
            {(props) => (
              <input
                {...props}
                value={form.name}
                onChange={(e) => set('name', e.target.value)}
                maxLength={400}
              />
            )}
          </Field>
          <Field label="Model type" name="modelType" error={errors.byField.modelType}>
            {(props) => (
              <select
                {...props}
                value={form.modelType}
                onChange={(e) => set('modelType', e.target.value as ModelType)}
              >
                {MODEL_TYPE_LIST.map((type) => (
                  <option key={type} value={type}>
                    {type} · {MODEL_TYPES[type]}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <StatesField
            selected={form.states}
            onChange={(states) => set('states', states)}
            error={errors.byField.bundeslaender}
          />
          <div className="row3">
            {MAIN_NUMBERS.map((field) => (
              <NumberField key={field.name} {...field} form={form} set={set} errors={errors} />
            ))}
          </div>
          <details className="more">
            <summary>More settings</summary>
            <div className="row3">
              {MORE_NUMBERS.map((field) => (
                <NumberField key={field.name} {...field} form={form} set={set} errors={errors} />
              ))}
            </div>
            <label className="check">
              <input
                type="checkbox"
                checked={form.mixedPrecision}
                onChange={(e) => set('mixedPrecision', e.target.checked)}
              />
              Mixed precision (recorded; the CPU trainer trains in fp32)
            </label>
          </details>
          <div className="actions">
            <button type="submit" className="primary" disabled={created.fetching}>
              Create
            </button>
          </div>
        </form>
        <PlanPreview states={form.states} />
      </div>
    </>
  );
}

type FieldProps = {
  id: string;
  name: string;
  'aria-invalid'?: boolean;
  'aria-describedby'?: string;
};

/** A labelled control with its error from the API right below it. */
function Field({
  label,
  name,
  error,
  children,
}: {
  label: string;
  name: string;
  error: string | undefined;
  children(props: FieldProps): ReactNode;
}) {
  const id = useId();
  const errorId = `${id}-error`;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children({
        id,
        name,
        ...(error ? { 'aria-invalid': true, 'aria-describedby': errorId } : {}),
      })}
      {error && (
        <p id={errorId} className="field-error">
          {error}
        </p>
      )}
    </div>
  );
}

function NumberField({
  label,
  name,
  step,
  form,
  set,
  errors,
}: NumberSpec & {
  form: Form;
  set(key: NumberName, value: string): void;
  errors: { byField: Record<string, string> };
}) {
  return (
    <Field label={label} name={name} error={errors.byField[name]}>
      {(props) => (
        <input
          {...props}
          type="number"
          inputMode="decimal"
          step={step}
          value={form[name]}
          onChange={(e) => set(name, e.target.value)}
        />
      )}
    </Field>
  );
}

function StatesField({
  selected,
  onChange,
  error,
}: {
  selected: string[];
  onChange(states: string[]): void;
  error: string | undefined;
}) {
  const [result] = useQuery({ query: StatesQuery });
  const errorId = useId();
  const states = result.data?.datasetStats.byBundesland ?? [];
  const toggle = (code: string, on: boolean) =>
    onChange(
      on
        ? states.map((s) => s.key).filter((k) => k === code || selected.includes(k))
        : selected.filter((k) => k !== code),
    );
  return (
    <fieldset
      className="field states"
      aria-invalid={error ? true : undefined}
      aria-describedby={error ? errorId : undefined}
    >
      <legend>States</legend>
      {result.error && <ErrorNotice error={result.error} />}
      {!result.data && <Loading what="states" />}
      <div className="state-grid">
        {states.map(({ key, count }) => (
          <label key={key} className="check" title={`${formatCount(count)} documents`}>
            <input
              type="checkbox"
              checked={selected.includes(key)}
              onChange={(e) => toggle(key, e.target.checked)}
            />
            {key} <span className="muted small">{formatCount(count)}</span>
          </label>
        ))}
      </div>
      {error && (
        <p id={errorId} className="field-error">
          {error}
        </p>
      )}
    </fieldset>
  );
}

/**
 * What the job would train on, as you choose. Today from `datasetStats` of the chosen states;
 * the API's `trainingPlan` (steps, warm-up, warnings) takes its place once the schema has it.
 */
function PlanPreview({ states }: { states: string[] }) {
  const [result] = useQuery({
    query: PlanQuery,
    variables: { states },
    pause: states.length === 0,
  });
  const stats = states.length ? result.data?.datasetStats : undefined;
  return (
    <section className="card plan" aria-labelledby="plan-heading">
      <h2 id="plan-heading">Plan</h2>
      {states.length === 0 && <p className="muted">Choose one or more states.</p>}
      {result.error && <ErrorNotice error={result.error} />}
      {stats && (
        <>
          <dl className="facts">
            <div className="fact">
              <dt>Training documents</dt>
              <dd>{formatCount(stats.trainingAllowed)}</dd>
            </div>
            <div className="fact">
              <dt>Examples (chunks)</dt>
              <dd>{formatCount(stats.trainingAllowedChunks)}</dd>
            </div>
          </dl>
          {stats.trainingAllowed === 0 && (
            <p role="status" className="warning">
              No training-allowed documents in these states: the job would have nothing to learn
              from.
            </p>
          )}
        </>
      )}
    </section>
  );
}
