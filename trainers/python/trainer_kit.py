"""Speak the training server's command-trainer protocol from your own Python training loop.

One file, standard library only, Python >= 3.9: copy it next to your trainer or put this folder
on ``PYTHONPATH``. The protocol itself is described in ``docs/trainer-command.md``; this module
is its Python side, so that a training loop only needs a few calls::

    import trainer_kit as kit

    def train(run: kit.Run) -> None:
        state = run.load_checkpoint()            # bytes of the last checkpoint, or None
        ...                                      # build data and model, restore `state`
        run.prepare(total_steps=..., steps_per_epoch=..., train_size=..., validation_size=...,
                    labels=labels, resumed_from_step=start)
        for step in range(start + 1, total + 1):
            ...                                  # one optimizer step
            run.report(step, epoch, loss, lr)    # + val_loss=..., metrics=... after an epoch
            if run.checkpoint_requested():
                run.save_checkpoint(step, epoch, serialize(state))
            if run.should_stop():
                return
        run.done(None, save_model())             # the artifact file's path

    kit.main(train, defaults=kit.Defaults(learning_rate=0.02, warmup_ratio=0.1),
             load_predictor=load_predictor)

``main`` dispatches on ``TRAINER_MODE``: unset or ``train`` trains, ``describe`` prints the
trainer's recommended defaults as one JSON line, ``predict`` serves a trained artifact
(``TRAINER_ARTIFACT``) over JSON lines on stdin and stdout.

Everything a trainer ``print()``s goes to stderr: stdout carries the protocol only. Log with
``kit.log.info("msg", key=value)``: one JSON object per stderr line, ``{"level", "msg",
"fields"}``, which the server can forward to its own log.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import signal
import sys
import threading
from dataclasses import dataclass, field
from typing import (
    IO,
    Any,
    Callable,
    Dict,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Union,
)

__all__ = [
    "PROTOCOL_VERSION",
    "Config",
    "Defaults",
    "Example",
    "Metrics",
    "Predictor",
    "ProtocolViolation",
    "Run",
    "classification_metrics",
    "stratified_split",
    "describe",
    "log",
    "main",
    "serve_predictions",
]

PROTOCOL_VERSION = 1
"""The ``version`` of the input file this kit understands."""

LOG_LEVELS = ("trace", "debug", "info", "warn", "error", "fatal")
PRECISIONS = ("fp32", "fp16", "bf16")


class ProtocolViolation(Exception):
    """A call that would make the server fail the run (wrong order, bad values)."""


# ---- output streams ---------------------------------------------------------------------------


def _protocol_stream() -> IO[str]:
    """Keeps stdout for protocol lines and sends everything else written to fd 1 to stderr.

    Libraries print progress bars and warnings to stdout; the server fails a run on any stdout
    line that is not an event. A private duplicate of fd 1 carries the events, and fd 1 itself
    (``print()``, C extensions, child processes) is pointed at stderr.
    """
    global _protocol
    if _protocol is None:  # once: a second time, fd 1 would already be stderr
        sys.stdout.flush()
        private = os.dup(1)
        os.dup2(2, 1)
        sys.stdout = os.fdopen(1, "w", buffering=1, encoding="utf-8", closefd=False)
        _protocol = os.fdopen(private, "w", buffering=1, encoding="utf-8")
    return _protocol


_protocol: Optional[IO[str]] = None


class Logger:
    """Structured logs: one JSON object per stderr line, ``{"level", "msg", "fields"}``."""

    def __init__(self, stream: Optional[IO[str]] = None) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def log(self, level: str, msg: str, **fields: Any) -> None:
        """Writes one log line; ``level`` is one of trace, debug, info, warn, error, fatal."""
        if level not in LOG_LEVELS:
            raise ValueError(f"level must be one of {', '.join(LOG_LEVELS)}, got {level!r}")
        line: Dict[str, Any] = {"level": level, "msg": msg}
        if fields:
            line["fields"] = fields
        text = json.dumps(line, default=str, ensure_ascii=False)
        stream = self._stream or sys.stderr
        with self._lock:
            stream.write(text + "\n")
            stream.flush()

    def debug(self, msg: str, **fields: Any) -> None:
        self.log("debug", msg, **fields)

    def info(self, msg: str, **fields: Any) -> None:
        self.log("info", msg, **fields)

    def warn(self, msg: str, **fields: Any) -> None:
        self.log("warn", msg, **fields)

    def error(self, msg: str, **fields: Any) -> None:
        self.log("error", msg, **fields)


log = Logger()
"""The module's logger, writing to stderr."""


def _write_line(stream: IO[str], event: Mapping[str, Any]) -> None:
    # allow_nan=False: NaN is not JSON, the server would reject the line.
    stream.write(json.dumps(event, allow_nan=False, ensure_ascii=False) + "\n")
    stream.flush()


# ---- input ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    """One labelled training chunk."""

    text: str
    label: str


@dataclass(frozen=True)
class Config:
    """The job's hyperparameters, as the server validated them."""

    batch_size: int
    learning_rate: float
    epochs: int
    warmup_steps: int
    weight_decay: float
    gradient_accumulation: int
    mixed_precision: bool
    seed: int
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """The config object as sent, including fields newer than this kit."""

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> "Config":
        def integer(name: str, minimum: int) -> int:
            value = data.get(name)
            if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
                raise ValueError(f"config.{name} must be an integer >= {minimum}, got {value!r}")
            return value

        def number(name: str) -> float:
            value = data.get(name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise ValueError(f"config.{name} must be a number >= 0, got {value!r}")
            return float(value)

        return Config(
            batch_size=integer("batchSize", 1),
            learning_rate=number("learningRate"),
            epochs=integer("epochs", 1),
            warmup_steps=integer("warmupSteps", 0),
            weight_decay=number("weightDecay"),
            gradient_accumulation=integer("gradientAccumulation", 1),
            mixed_precision=bool(data.get("mixedPrecision", False)),
            seed=integer("seed", 0),
            raw=dict(data),
        )

    def learning_rate_at(self, step_index: int, total_steps: int) -> float:
        """The job's schedule at the 0-based optimizer step ``step_index``.

        Linear warm-up from 0 over ``warmup_steps`` steps, then linear decay to 0 at
        ``total_steps`` (Hugging Face's ``get_linear_schedule_with_warmup``; the built-in
        trainer's curve).
        """
        peak, warmup = self.learning_rate, self.warmup_steps
        if step_index < warmup:
            return peak * step_index / warmup
        return peak * max(0.0, (total_steps - step_index) / max(1, total_steps - warmup))


# ---- metrics ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Metrics:
    """An evaluation on the validation set: macro-averaged, each in 0..1."""

    val_loss: float
    precision: float
    recall: float
    f1: float
    accuracy: float


def classification_metrics(
    truth: Sequence[int], predicted: Sequence[int], classes: int, val_loss: float
) -> Metrics:
    """Accuracy and macro precision, recall and F1 over ``classes`` classes (ids 0..classes-1).

    A class that is never predicted (or never present) counts 0 for its precision (recall), as
    in scikit-learn with ``zero_division=0``.
    """
    if len(truth) != len(predicted):
        raise ValueError("truth and predicted must have the same length")
    if not truth:
        raise ValueError("cannot evaluate on an empty validation set")
    tp = [0] * classes
    predicted_count = [0] * classes
    actual_count = [0] * classes
    for t, p in zip(truth, predicted):
        predicted_count[p] += 1
        actual_count[t] += 1
        if t == p:
            tp[t] += 1
    precision = recall = f1 = 0.0
    for c in range(classes):
        pc = tp[c] / predicted_count[c] if predicted_count[c] else 0.0
        rc = tp[c] / actual_count[c] if actual_count[c] else 0.0
        precision += pc
        recall += rc
        f1 += 2 * pc * rc / (pc + rc) if pc + rc > 0 else 0.0
    return Metrics(
        val_loss=float(val_loss),
        precision=precision / classes,
        recall=recall / classes,
        f1=f1 / classes,
        accuracy=sum(tp) / len(truth),
    )


def stratified_split(
    labels: Sequence[str], seed: int, fraction: float = 0.15
) -> Tuple[List[int], List[int]]:
    """Example indices for training and validation, each ascending.

    Each label with two or more examples gives ``round(n * fraction)`` of them to validation,
    at least one and never all (the built-in trainer's rule); the choice follows from ``seed``.
    """
    rng = random.Random(seed)
    train: List[int] = []
    validation: List[int] = []
    for label in sorted(set(labels)):
        members = [i for i, lab in enumerate(labels) if lab == label]
        rng.shuffle(members)
        n = len(members)
        held = 0 if n < 2 else min(n - 1, max(1, round(n * fraction)))
        validation += members[:held]
        train += members[held:]
    return sorted(train), sorted(validation)


# ---- training ---------------------------------------------------------------------------------


class Run:
    """One training run under the server: its input, its events and the server's requests.

    Create it once, in the main thread (Python runs signal handlers there). It installs the
    ``SIGUSR1`` (checkpoint) and ``SIGUSR2`` (pause) handlers, ``SIGTERM`` (cancel) as a flag for
    :meth:`should_stop`, and watches stdin, whose end means the server is gone.
    """

    def __init__(
        self,
        env: Optional[Mapping[str, str]] = None,
        events: Optional[IO[str]] = None,
        watch_stdin: bool = True,
    ) -> None:
        """Reads ``TRAINER_INPUT`` and ``TRAINER_WORKDIR`` from ``env`` (default: the process's).

        ``events`` is where protocol lines go; by default the real stdout, with fd 1 itself
        redirected to stderr so that stray prints cannot break the protocol.
        """
        env = os.environ if env is None else env
        input_path = env.get("TRAINER_INPUT")
        workdir = env.get("TRAINER_WORKDIR")
        if not input_path or not workdir:
            raise RuntimeError("TRAINER_INPUT and TRAINER_WORKDIR must be set (docs/trainer-command.md)")
        with open(input_path, encoding="utf-8") as file:
            data = json.load(file)
        if data.get("version") != PROTOCOL_VERSION:
            raise RuntimeError(f"input version {data.get('version')!r} is not {PROTOCOL_VERSION}")
        self.workdir: str = workdir
        self.job_id: str = str(data.get("jobId", ""))
        self.config: Config = Config.from_json(data["config"])
        self.examples: List[Example] = [
            Example(text=str(e["text"]), label=str(e["label"])) for e in data["examples"]
        ]
        self.checkpoint_path: Optional[str] = data.get("checkpoint")
        """The file holding the checkpoint to resume from, or None for a fresh run."""

        self._events = events if events is not None else _protocol_stream()
        self._checkpoint_wanted = False
        self._pause_wanted = False
        self._cancelled = False
        self._server_gone = threading.Event()
        self._paused = False
        self._ended = False
        self._total_steps = 0
        self._steps_per_epoch = 0
        self._train_size = 0
        self._last_step = 0
        self._evaluated = False
        self._install_handlers()
        if watch_stdin and not sys.stdin.isatty():
            threading.Thread(target=self._watch_stdin, name="trainer-kit-stdin", daemon=True).start()

    def fingerprint(self) -> str:
        """A digest of the config and the examples: store it in a checkpoint and compare on load,
        since a checkpoint fits only the data and settings it was made with."""
        data = json.dumps([self.config.raw, [(e.text, e.label) for e in self.examples]], sort_keys=True)
        return hashlib.sha256(data.encode("utf-8")).hexdigest()

    # -- signals --------------------------------------------------------------------------------

    def _install_handlers(self) -> None:
        def on_usr1(_signum: int, _frame: Any) -> None:
            self._checkpoint_wanted = True

        def on_usr2(_signum: int, _frame: Any) -> None:
            self._pause_wanted = True

        def on_term(_signum: int, _frame: Any) -> None:
            self._cancelled = True

        signal.signal(signal.SIGUSR1, on_usr1)
        signal.signal(signal.SIGUSR2, on_usr2)
        signal.signal(signal.SIGTERM, on_term)

    def _ignore_requests(self) -> None:
        # A request that arrives after the run's end must not kill the exiting process: Python
        # restores the default action (terminate) of handled signals while it shuts down, but
        # leaves ignored ones ignored.
        signal.signal(signal.SIGUSR1, signal.SIG_IGN)
        signal.signal(signal.SIGUSR2, signal.SIG_IGN)

    def _watch_stdin(self) -> None:
        # The raw descriptor, not sys.stdin: a daemon thread blocked in a buffered reader makes
        # the interpreter abort at exit.
        try:
            while os.read(0, 65536):
                pass
        except OSError:
            pass
        if not self._ended:
            log.warn("stdin closed: the server is gone, the run stops at the next step")
        self._server_gone.set()

    # -- the protocol ---------------------------------------------------------------------------

    def _emit(self, event: Mapping[str, Any]) -> None:
        if self._ended:
            raise ProtocolViolation(f"{event['type']!r} after the run ended")
        _write_line(self._events, event)

    def load_checkpoint(self) -> Optional[bytes]:
        """The bytes of the checkpoint to resume from (as saved by :meth:`save_checkpoint`)."""
        if self.checkpoint_path is None:
            return None
        with open(self.checkpoint_path, "rb") as file:
            return file.read()

    def prepare(
        self,
        *,
        total_steps: int,
        steps_per_epoch: int,
        train_size: int,
        validation_size: int,
        labels: Sequence[str],
        precision: str = "fp32",
        resumed_from_step: int = 0,
        note: Optional[str] = None,
        validation_indices: Optional[Sequence[int]] = None,
    ) -> None:
        """Announces the run: the data is loaded and training begins. Call once, first.

        ``validation_indices``: which of :attr:`examples` (0-based) are the validation set.
        Optional; with them the server can compare models on the very examples this run held
        out (see docs/trainer-command.md).
        """
        if self._total_steps:
            raise ProtocolViolation("prepare() was already called")
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}")
        if total_steps < 1 or steps_per_epoch < 1 or train_size < 1 or validation_size < 0:
            raise ValueError("total_steps, steps_per_epoch and train_size must be >= 1")
        if not 0 <= resumed_from_step < total_steps:
            raise ValueError("resumed_from_step must be in 0..total_steps-1")
        if not labels or any(not label for label in labels):
            raise ValueError("labels must be non-empty strings")
        event: Dict[str, Any] = {
            "type": "prepared",
            "totalSteps": total_steps,
            "stepsPerEpoch": steps_per_epoch,
            "trainSize": train_size,
            "validationSize": validation_size,
            "labels": list(labels),
            "precision": precision,
            "resumedFromStep": resumed_from_step,
        }
        if note is not None:
            event["note"] = note
        if validation_indices is not None:
            indices = sorted(set(int(i) for i in validation_indices))
            if len(indices) != validation_size or (indices and not 0 <= indices[0] <= indices[-1] < len(self.examples)):
                raise ValueError("validation_indices must be validation_size distinct indices of examples")
            event["validationIndices"] = indices
        self._emit(event)
        self._total_steps = total_steps
        self._steps_per_epoch = steps_per_epoch
        self._train_size = train_size
        self._last_step = resumed_from_step

    def _require_prepared(self, what: str) -> None:
        if not self._total_steps:
            raise ProtocolViolation(f"{what} before prepare()")

    def examples_seen(self, step: int) -> int:
        """Training examples seen after ``step`` when every step takes a full batch group."""
        per_step = self.config.batch_size * self.config.gradient_accumulation
        epoch_index, in_epoch = divmod(step - 1, self._steps_per_epoch)
        return epoch_index * self._train_size + min((in_epoch + 1) * per_step, self._train_size)

    def report(
        self,
        step: int,
        epoch: int,
        loss: float,
        lr: float,
        val_loss: Optional[float] = None,
        *,
        metrics: Optional[Metrics] = None,
        examples_seen: Optional[int] = None,
    ) -> None:
        """Reports the optimizer step ``step`` (1-based, each step once, in order).

        With ``metrics`` (or ``val_loss`` and ``metrics`` whose ``val_loss`` it overrides) an
        evaluation on the validation set after this step follows right away; the one at the
        last step is the final one, whose metrics the model version keeps.
        """
        self._require_prepared("report()")
        if step != self._last_step + 1 or step > self._total_steps:
            raise ProtocolViolation(f"step {step} after step {self._last_step} of {self._total_steps}")
        if not math.isfinite(loss):
            raise ValueError(f"loss at step {step} is {loss}")
        if metrics is None and val_loss is not None:
            raise ValueError("val_loss needs metrics (see classification_metrics)")
        evaluation = None
        if metrics is not None:
            if val_loss is not None:
                metrics = Metrics(val_loss, metrics.precision, metrics.recall, metrics.f1, metrics.accuracy)
            evaluation = self._eval_event(step, epoch, metrics)
        self._emit(
            {
                "type": "step",
                "step": step,
                "epoch": epoch,
                "loss": float(loss),
                "learningRate": float(lr),
                "examplesSeen": self.examples_seen(step) if examples_seen is None else examples_seen,
            }
        )
        self._last_step = step
        if evaluation is not None:
            self._emit(evaluation)
            self._evaluated = True

    def _eval_event(self, step: int, epoch: int, metrics: Metrics) -> Dict[str, Any]:
        for name in ("precision", "recall", "f1", "accuracy"):
            value = getattr(metrics, name)
            if not 0 <= value <= 1:
                raise ValueError(f"{name} must be in 0..1, got {value}")
        if not math.isfinite(metrics.val_loss):
            raise ValueError(f"val_loss at step {step} is {metrics.val_loss}")
        return {
            "type": "eval",
            "step": step,
            "epoch": epoch,
            "valLoss": float(metrics.val_loss),
            "precision": float(metrics.precision),
            "recall": float(metrics.recall),
            "f1": float(metrics.f1),
            "accuracy": float(metrics.accuracy),
            "final": step == self._total_steps,
        }

    def checkpoint_requested(self) -> bool:
        """Whether the server wants a checkpoint now (periodically, or before a pause).

        Never at the last step: there the run ends with its artifact instead.
        """
        return (
            (self._checkpoint_wanted or self._pause_wanted)
            and not self._paused
            and 0 < self._last_step < self._total_steps
        )

    def save_checkpoint(self, step: int, epoch: int, state: Union[bytes, str, os.PathLike]) -> str:
        """Hands the training state after ``step`` to the server; returns the file's path.

        ``state`` is the checkpoint's bytes (written to a new file in the work directory) or
        the path of a file you wrote, which must not change afterwards. On resume the same
        bytes come back from :meth:`load_checkpoint`. Answering a pause, this is the run's
        last event: :meth:`should_stop` is True from now on.
        """
        self._require_prepared("save_checkpoint()")
        if step != self._last_step:
            raise ProtocolViolation(f"checkpoint at step {step}, but the last step was {self._last_step}")
        if isinstance(state, (bytes, bytearray, memoryview)):
            path = os.path.join(self.workdir, f"checkpoint-{step}")
            with open(path, "wb") as file:
                file.write(state)
        else:
            path = os.fspath(state)
        pausing = self._pause_wanted
        if pausing:
            self._ignore_requests()
        self._emit({"type": "checkpoint", "step": step, "epoch": epoch, "path": os.path.abspath(path)})
        self._checkpoint_wanted = False
        if pausing:
            self._paused = True
            self._ended = True
        return path

    def should_stop(self) -> bool:
        """True once the loop should end without an artifact.

        After a pause's checkpoint was saved, on a cancel (``SIGTERM``; nothing more is
        expected then), or when the server is gone (stdin closed). Return from the loop and
        exit with code 0.
        """
        return self._paused or self._cancelled or self._server_gone.is_set()

    @property
    def pause_requested(self) -> bool:
        """The server asked for a pause (a checkpoint, then exit)."""
        return self._pause_wanted

    def done(self, metrics: Optional[Metrics], artifact_path: Union[str, os.PathLike]) -> None:
        """Ends the run with the trained model in the file ``artifact_path``.

        ``metrics``: the final evaluation, if it was not reported with the last step. The server
        stores the artifact's bytes as they are; ``TRAINER_MODE=predict`` gets them back.
        """
        self._require_prepared("done()")
        if self._last_step != self._total_steps:
            raise ProtocolViolation(f"done() after step {self._last_step} of {self._total_steps}")
        if metrics is not None:
            epoch = -(-self._total_steps // self._steps_per_epoch)
            self._emit(self._eval_event(self._total_steps, epoch, metrics))
            self._evaluated = True
        if not self._evaluated:
            raise ProtocolViolation("done() without an evaluation: pass the final metrics")
        self._ignore_requests()
        self._emit({"type": "artifact", "path": os.path.abspath(os.fspath(artifact_path))})
        self._ended = True


# ---- describe ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Defaults:
    """The trainer's recommended hyperparameters, used for the plan of a job that omits them."""

    learning_rate: Optional[float] = None
    warmup_steps: Optional[int] = None
    warmup_ratio: Optional[float] = None
    """Share (0..0.5) of the run's optimizer steps; give this or ``warmup_steps``, not both."""

    def to_json(self) -> Dict[str, Any]:
        if self.warmup_steps is not None and self.warmup_ratio is not None:
            raise ValueError("give warmup_steps or warmup_ratio, not both")
        if self.learning_rate is not None and not self.learning_rate > 0:
            raise ValueError("learning_rate must be > 0")
        if self.warmup_steps is not None and self.warmup_steps < 0:
            raise ValueError("warmup_steps must be >= 0")
        if self.warmup_ratio is not None and not 0 <= self.warmup_ratio <= 0.5:
            raise ValueError("warmup_ratio must be in 0..0.5")
        out: Dict[str, Any] = {}
        if self.learning_rate is not None:
            out["learningRate"] = self.learning_rate
        if self.warmup_steps is not None:
            out["warmupSteps"] = self.warmup_steps
        if self.warmup_ratio is not None:
            out["warmupRatio"] = self.warmup_ratio
        return out


def describe(defaults: Defaults, predicts: bool, stream: Optional[IO[str]] = None) -> None:
    """Writes the ``TRAINER_MODE=describe`` answer: one JSON line."""
    _write_line(
        stream or sys.stdout,
        {"type": "describe", "version": PROTOCOL_VERSION, "defaults": defaults.to_json(), "predict": predicts},
    )


# ---- predict ----------------------------------------------------------------------------------


class Predictor:
    """A loaded model for ``TRAINER_MODE=predict``: subclass it, or give any object with these."""

    labels: Sequence[str] = ()

    def predict(self, texts: Sequence[str]) -> Sequence[Mapping[str, float]]:
        """One mapping label → probability per text, in order."""
        raise NotImplementedError


def _answer(request_line: str, predictor: Predictor) -> Dict[str, Any]:
    try:
        request = json.loads(request_line)
    except ValueError:
        return {"type": "error", "id": None, "message": "the request is not JSON"}
    request_id = request.get("id") if isinstance(request, dict) else None
    texts = request.get("texts") if isinstance(request, dict) else None
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        return {"type": "error", "id": request_id, "message": "texts must be a list of strings"}
    try:
        results = list(predictor.predict(texts))
    except Exception as error:  # the process serves on; the server reports this request failed
        log.error("predict failed", error=repr(error))
        return {"type": "error", "id": request_id, "message": f"predict failed: {error}"}
    if len(results) != len(texts):
        message = f"predict returned {len(results)} results for {len(texts)} texts"
        return {"type": "error", "id": request_id, "message": message}
    predictions = []
    for probabilities in results:
        ranked = sorted(((str(k), float(v)) for k, v in probabilities.items()), key=lambda kv: -kv[1])
        predictions.append(
            {
                "label": ranked[0][0],
                "probabilities": [{"label": k, "probability": v} for k, v in ranked],
            }
        )
    return {"type": "predictions", "id": request_id, "predictions": predictions}


def serve_predictions(predictor: Predictor, requests: IO[str], answers: IO[str]) -> None:
    """The predict loop: a ``ready`` line, then one answer line per request line until EOF.

    A request is ``{"id": 1, "texts": ["…", …]}``; its answer ``{"type": "predictions", "id": 1,
    "predictions": [{"label", "probabilities": [{"label", "probability"}, …]}, …]}`` (every
    label, most likely first, one entry per text in order), or ``{"type": "error", "id": 1,
    "message": "…"}``.
    """
    _write_line(answers, {"type": "ready", "labels": list(predictor.labels)})
    for line in requests:
        if line.strip():
            _write_line(answers, _answer(line, predictor))


# ---- entry point ------------------------------------------------------------------------------


def main(
    train: Callable[[Run], None],
    *,
    defaults: Defaults = Defaults(),
    load_predictor: Optional[Callable[[str], Predictor]] = None,
) -> None:
    """Runs the trainer in the mode ``TRAINER_MODE`` asks for: train (default), describe, predict.

    ``train`` gets the :class:`Run`. ``load_predictor`` gets the artifact's path
    (``TRAINER_ARTIFACT``) and returns the model that answers predictions.
    """
    mode = os.environ.get("TRAINER_MODE") or "train"
    if mode == "describe":
        describe(defaults, predicts=load_predictor is not None)
    elif mode == "predict":
        if load_predictor is None:
            log.error("this trainer has no predict mode")
            sys.exit(2)
        artifact = os.environ.get("TRAINER_ARTIFACT")
        if not artifact:
            log.error("TRAINER_ARTIFACT must name the model file in predict mode")
            sys.exit(2)
        answers = _protocol_stream()  # before the model loads: its prints must not reach stdout
        serve_predictions(load_predictor(artifact), sys.stdin, answers)
    elif mode == "train":
        train(Run())
    else:
        log.error("unknown TRAINER_MODE", mode=mode)
        sys.exit(2)
