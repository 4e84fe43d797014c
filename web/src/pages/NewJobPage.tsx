import { type FormEvent, type ReactNode, useEffect, useId, useRef, useState } from 'react';
import { type UseQueryState, useMutation, useQuery } from 'urql';
import { fieldErrors } from '../api/errors.ts';
import { useCanMutate } from '../auth/session.tsx';
import { ErrorNotice, Loading, useTitle } from '../components/common.tsx';
import { formatCount } from '../format.ts';
import { graphql, type ResultOf, type VariablesOf } from '../graphql.ts';
import { MODEL_TYPE_LIST, MODEL_TYPES, type ModelType } from '../jobs/model-types.ts';
import { Link, navigate } from '../router.tsx';
import { PlanDetails, PlanFields } from '../trust/PlanDetails.tsx';

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

const PlanQuery = graphql(
  `
  query NewJobPlan($input: TrainingConfigInput!) {
    trainingPlan(input: $input) {
      ...PlanFields
    }
  }
`,
  [PlanFields],
);

const CreateJob = graphql(`
  mutation CreateJob($input: TrainingConfigInput!) {
    createTrainingJob(input: $input) {
      id
    }
  }
`);

type Input = VariablesOf<typeof CreateJob>['input'];
type Activation = NonNullable<Input['activation']>;

const ACTIVATIONS: Record<Activation, string> = {
  IF_BETTER: 'If it beats the baseline and the serving version',
  ALWAYS: 'Always',
  MANUAL: 'By hand only',
};

/** How long typing pauses before the plan is asked for again. */
const PLAN_DELAY_MS = 300;
/** The plan does not depend on the name: a form without one yet still gets its plan. */
const UNNAMED = 'New job';

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
  activation: Activation;
};

// The schema's defaults, shown so that people see what they get; a cleared field is left out
// and the API applies its default. Learning rate and warm-up start empty: the trainer picks
// them for the run, and the plan shows what it picked.
const INITIAL: Form = {
  name: '',
  modelType: 'ZEUGNIS',
  states: [],
  epochs: '10',
  batchSize: '16',
  learningRate: '',
  warmupSteps: '',
  weightDecay: '0.01',
  gradientAccumulation: '4',
  seed: '42',
  mixedPrecision: true,
  activation: 'IF_BETTER',
};

type NumberName =
  | 'epochs'
  | 'batchSize'
  | 'learningRate'
  | 'warmupSteps'
  | 'weightDecay'
  | 'gradientAccumulation'
  | 'seed';
type NumberSpec = { label: string; name: NumberName; step?: string; hint?: string };

/** The settings that an empty field leaves to the trainer (TrainingConfig.defaultsApplied). */
const TRAINERS_CHOICE = ['learningRate', 'warmupSteps'] as const;
const EMPTY_HINT = "Empty: the trainer's choice, shown in the plan.";

const MAIN_NUMBERS: NumberSpec[] = [
  { label: 'Epochs', name: 'epochs' },
  { label: 'Batch size', name: 'batchSize' },
  { label: 'Learning rate', name: 'learningRate', step: 'any', hint: EMPTY_HINT },
];
const MORE_NUMBERS: NumberSpec[] = [
  { label: 'Warm-up steps', name: 'warmupSteps', hint: EMPTY_HINT },
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
    activation: form.activation,
  };
  for (const { name } of [...MAIN_NUMBERS, ...MORE_NUMBERS]) {
    const text = form[name].trim();
    if (text !== '') input[name] = Number(text);
  }
  return input;
}

/** The input fields the form shows: an error on any other is shown above the form. */
const SHOWN_FIELDS: ReadonlySet<string> = new Set([
  'name',
  'modelType',
  'bundeslaender',
  ...MAIN_NUMBERS.map((f) => f.name),
  ...MORE_NUMBERS.map((f) => f.name),
  'mixedPrecision',
  'activation',
]);

/** The plan's input: the form's, with a stand-in name while the form has none. */
function planInput(key: string): Input {
  const input = JSON.parse(key) as Input;
  return input.name.trim() ? input : { ...input, name: UNNAMED };
}

/** `value`, once it has stayed the same for `ms`. */
function useSettled<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

export function NewJobPage() {
  useTitle('New job');
  const canMutate = useCanMutate();
  const [form, setForm] = useState(INITIAL);
  const [created, create] = useMutation(CreateJob);
  const input = toInput(form);
  const inputKey = JSON.stringify(input);
  // the input that Create last sent: its errors stand until the form changes
  const [sentKey, setSentKey] = useState<string | null>(null);
  const planKey = useSettled(inputKey, PLAN_DELAY_MS);
  const [plan] = useQuery({
    query: PlanQuery,
    variables: { input: planInput(planKey) },
    pause: form.states.length === 0,
  });
  const planCurrent = planKey === inputKey && form.states.length > 0;
  const createErrors = fieldErrors(sentKey === inputKey ? created.error : undefined);
  const planErrors = fieldErrors(planCurrent && !plan.fetching ? plan.error : undefined);
  // Next to the fields: Create's errors for the input it sent, else the plan's, which refuses
  // what Create would refuse, so that a bad value is marked as it is typed.
  const errors = {
    byField: sentKey === inputKey && created.error ? createErrors.byField : planErrors.byField,
  };
  const unplaced = Object.entries(errors.byField)
    .filter(([field]) => !SHOWN_FIELDS.has(field))
    .map(([, message]) => message);
  // a field with an error is never hidden in the closed More settings
  const more = useRef<HTMLDetailsElement>(null);
  const moreHasError = MORE_NUMBERS.some((f) => errors.byField[f.name]);
  useEffect(() => {
    if (moreHasError && more.current) more.current.open = true;
  }, [moreHasError]);
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
    setSentKey(inputKey);
    const result = await create({ input });
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
          {[...createErrors.other, ...unplaced].map((message) => (
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
          <details className="more" ref={more}>
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
            <Field label="Activation" name="activation" error={errors.byField.activation}>
              {(props) => (
                <select
                  {...props}
                  value={form.activation}
                  onChange={(e) => set('activation', e.target.value as Activation)}
                >
                  {(Object.keys(ACTIVATIONS) as Activation[]).map((policy) => (
                    <option key={policy} value={policy}>
                      {ACTIVATIONS[policy]}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          </details>
          <div className="actions">
            <button type="submit" className="primary" disabled={created.fetching}>
              Create
            </button>
          </div>
        </form>
        <PlanPreview
          chooseStates={form.states.length === 0}
          result={plan}
          updating={!planCurrent || plan.fetching}
          trainerChose={TRAINERS_CHOICE.filter((name) => form[name].trim() === '')}
          otherErrors={planErrors.other}
        />
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

/** A labelled control, with its hint and its error from the API right below it. */
function Field({
  label,
  name,
  hint,
  error,
  children,
}: {
  label: string;
  name: string;
  hint?: string;
  error: string | undefined;
  children(props: FieldProps): ReactNode;
}) {
  const id = useId();
  const errorId = `${id}-error`;
  const hintId = `${id}-hint`;
  const describedBy = [error && errorId, hint && hintId].filter(Boolean).join(' ');
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children({
        id,
        name,
        ...(error ? { 'aria-invalid': true } : {}),
        ...(describedBy ? { 'aria-describedby': describedBy } : {}),
      })}
      {hint && (
        <p id={hintId} className="hint">
          {hint}
        </p>
      )}
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
  hint,
  form,
  set,
  errors,
}: NumberSpec & {
  form: Form;
  set(key: NumberName, value: string): void;
  errors: { byField: Record<string, string> };
}) {
  return (
    <Field label={label} name={name} hint={hint} error={errors.byField[name]}>
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
          // named by its state code alone; the count describes it
          <label key={key} className="check">
            <input
              type="checkbox"
              checked={selected.includes(key)}
              onChange={(e) => toggle(key, e.target.checked)}
              aria-describedby={`${errorId}-${key}`}
            />
            {key}{' '}
            <span id={`${errorId}-${key}`} className="muted small" aria-hidden="true">
              {formatCount(count)}
              <span className="visually-hidden"> documents</span>
            </span>
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

/** What the job would do, from `trainingPlan(input)`, asked again whenever typing pauses. */
function PlanPreview({
  chooseStates,
  result,
  updating,
  trainerChose,
  otherErrors,
}: {
  chooseStates: boolean;
  result: UseQueryState<ResultOf<typeof PlanQuery>>;
  updating: boolean;
  trainerChose: readonly string[];
  otherErrors: readonly string[];
}) {
  const plan = result.data?.trainingPlan;
  return (
    <section className="card plan" aria-labelledby="plan-heading">
      <h2 id="plan-heading">Plan</h2>
      {chooseStates ? (
        <p className="muted">Choose one or more states to see the plan.</p>
      ) : (
        <>
          {otherErrors.map((message) => (
            <p key={message} role="alert" className="error">
              {message}
            </p>
          ))}
          {result.error && !otherErrors.length && !updating && (
            <p className="muted">No plan for this input: see the marked fields.</p>
          )}
          {!result.error && plan && <PlanDetails plan={plan} trainerChose={trainerChose} />}
          <p className="muted small" role="status">
            {updating ? 'Updating the plan…' : ''}
          </p>
        </>
      )}
    </section>
  );
}
