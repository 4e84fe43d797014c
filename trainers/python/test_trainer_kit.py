"""Tests of trainer_kit: in process, and through real processes started the way the server does.

    cd trainers/python && python3 -m unittest -v test_trainer_kit
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import unittest
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import trainer_kit as kit
import harness
from harness import Trainer

HERE = Path(__file__).resolve().parent
TINY = f"{sys.executable} {HERE / 'tiny_trainer.py'}"


def demo_examples(states: Sequence[str] = ("NW", "BY", "BE")) -> List[Dict[str, str]]:
    return harness.demo_examples(states)


CONFIG = {
    "batchSize": 1,
    "learningRate": 0.1,
    "epochs": 8,
    "warmupSteps": 10,
    "weightDecay": 0.01,
    "gradientAccumulation": 1,
    "mixedPrecision": False,
    "seed": 3,
}


class ProcessTest(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def start(self, command: str = TINY, checkpoint: Optional[str] = None) -> Trainer:
        trainer = Trainer(command, tempfile.mkdtemp(dir=self.tmp.name), CONFIG, demo_examples(),
                          checkpoint=checkpoint, cwd=str(HERE))
        self.addCleanup(trainer.close)
        return trainer

    def script(self, body: str) -> str:
        path = os.path.join(self.tmp.name, "script.py")
        with open(path, "w", encoding="utf-8") as file:
            file.write(textwrap.dedent(body))
        return f"{sys.executable} {path}"


class ProtocolRunTest(ProcessTest):
    """The tiny trainer through real processes: the events, checkpoint, pause and resume."""

    def test_a_run_straight_through_speaks_the_protocol(self) -> None:
        trainer = self.start()
        self.assertEqual(trainer.finish(), 0, trainer.stderr_text())
        events = trainer.events
        prepared = events[0]
        self.assertEqual(prepared["type"], "prepared")
        self.assertEqual(prepared["resumedFromStep"], 0)
        self.assertEqual(len(prepared["validationIndices"]), prepared["validationSize"])
        steps = [e["step"] for e in events if e["type"] == "step"]
        self.assertEqual(steps, list(range(1, prepared["totalSteps"] + 1)))
        evals = [e for e in events if e["type"] == "eval"]
        self.assertEqual(len(evals), CONFIG["epochs"])
        self.assertEqual([e["final"] for e in evals], [False] * (CONFIG["epochs"] - 1) + [True])
        # Each eval right after its step.
        for e in evals:
            before = events[events.index(e) - 1]
            self.assertEqual((before["type"], before["step"]), ("step", e["step"]))
        self.assertEqual(events[-1]["type"], "artifact")
        self.assertGreater(evals[-1]["f1"], 0.5)  # chance: 0.25
        self.assertLess(evals[-1]["valLoss"], evals[0]["valLoss"])

    def test_checkpoint_on_usr1_then_trains_on(self) -> None:
        trainer = self.start()
        trainer.read_until("prepared")
        trainer.signal(signal.SIGUSR1)
        checkpoint = trainer.read_until("checkpoint")
        last_step = [e for e in trainer.events if e["type"] == "step"][-1]
        self.assertEqual(checkpoint["step"], last_step["step"])
        self.assertEqual(json.loads(trainer.file(checkpoint))["step"], checkpoint["step"])
        self.assertEqual(trainer.finish(), 0)
        self.assertEqual(trainer.events[-1]["type"], "artifact")

    def test_pause_then_resume_ends_with_the_model_of_a_straight_run(self) -> None:
        straight = self.start()
        self.assertEqual(straight.finish(), 0)
        reference = straight.file(straight.events[-1])

        paused = self.start()
        paused.read_until("step")
        # The trainer is at most a pipe's worth of lines ahead: far from its last step.
        paused.signal(signal.SIGUSR2)
        checkpoint = paused.read_until("checkpoint")
        self.assertEqual(paused.finish(), 0, paused.stderr_text())
        self.assertEqual(paused.events[-1], checkpoint)
        saved = os.path.join(self.tmp.name, "resume-checkpoint")
        Path(saved).write_bytes(paused.file(checkpoint))

        resumed = self.start(checkpoint=saved)
        prepared = resumed.read_until("prepared")
        self.assertEqual(prepared["resumedFromStep"], checkpoint["step"])
        self.assertEqual(resumed.finish(), 0, resumed.stderr_text())
        self.assertEqual(resumed.events[1]["step"], checkpoint["step"] + 1)
        self.assertEqual(resumed.file(resumed.events[-1]), reference)
        # The loss curve after the checkpoint is the straight run's.
        straight_steps = {e["step"]: e for e in straight.events if e["type"] == "step"}
        for e in resumed.events:
            if e["type"] == "step":
                self.assertEqual(e, straight_steps[e["step"]])

    def test_signals_after_the_artifact_do_not_kill_the_exiting_trainer(self) -> None:
        # Python restores the default action of handled signals while it shuts down: without the
        # kit ignoring them after the artifact, one of these kills the process.
        for _ in range(3):
            trainer = self.start()
            trainer.read_until("artifact")
            while trainer.process.poll() is None:
                try:
                    trainer.signal(signal.SIGUSR1)
                    trainer.signal(signal.SIGUSR2)
                except ProcessLookupError:
                    break
            self.assertEqual(trainer.finish(), 0, trainer.stderr_text())

    def test_prints_go_to_stderr_and_logs_are_json(self) -> None:
        command = self.script(
            """
            import trainer_kit as kit
            def train(run):
                print("hello from print")
                kit.log.info("loaded", examples=len(run.examples))
                raise SystemExit(0)
            kit.main(train)
            """
        )
        trainer = self.start(f"PYTHONPATH={HERE} {command}")
        self.assertEqual(trainer.finish(), 0)
        self.assertEqual(trainer.events, [])
        lines = trainer.stderr_text().splitlines()
        self.assertIn("hello from print", lines)
        logged = json.loads(next(line for line in lines if line.startswith("{")))
        self.assertEqual(logged, {"level": "info", "msg": "loaded", "fields": {"examples": len(demo_examples())}})

    def test_should_stop_on_a_cancel(self) -> None:
        command = self.script(
            """
            import sys, time, trainer_kit as kit
            def train(run):
                run.prepare(total_steps=10, steps_per_epoch=10, train_size=1, validation_size=0,
                            labels=["a"])
                while not run.should_stop():
                    time.sleep(0.01)
                sys.exit(3)
            kit.main(train)
            """
        )
        # exec: the exit code is the trainer's, not that of the shell the signal also reaches.
        trainer = self.start(f"PYTHONPATH={HERE} exec {command}")
        trainer.read_until("prepared")
        trainer.signal(signal.SIGTERM)
        self.assertEqual(trainer.process.wait(), 3)

    def test_should_stop_when_stdin_closes(self) -> None:
        command = self.script(
            """
            import sys, time, trainer_kit as kit
            def train(run):
                while not run.should_stop():
                    time.sleep(0.01)
                sys.exit(4)
            kit.main(train)
            """
        )
        trainer = self.start(f"PYTHONPATH={HERE} {command}")
        assert trainer.process.stdin is not None
        trainer.process.stdin.close()
        self.assertEqual(trainer.process.wait(), 4)
        self.assertIn("the server is gone", trainer.stderr_text())


class ModesTest(ProcessTest):
    def test_describe_prints_one_line_of_defaults(self) -> None:
        out = subprocess.run(
            [sys.executable, str(HERE / "tiny_trainer.py")],
            env={**os.environ, "TRAINER_MODE": "describe"},
            capture_output=True, text=True, check=True,
        )
        self.assertEqual(
            [json.loads(line) for line in out.stdout.splitlines()],
            [{"type": "describe", "version": 1, "predict": True,
              "defaults": {"learningRate": 0.1, "warmupRatio": 0.1}}],
        )

    def test_predict_answers_each_request_line(self) -> None:
        trainer = self.start()
        self.assertEqual(trainer.finish(), 0)
        artifact = os.path.join(self.tmp.name, "model")
        Path(artifact).write_bytes(trainer.file(trainer.events[-1]))
        process = subprocess.Popen(
            [sys.executable, str(HERE / "tiny_trainer.py")],
            env={**os.environ, "TRAINER_MODE": "predict", "TRAINER_ARTIFACT": artifact},
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        assert process.stdin is not None and process.stdout is not None
        ready = json.loads(process.stdout.readline())
        self.assertEqual(ready, {"type": "ready", "labels": trainer.events[0]["labels"]})
        text = demo_examples(("HH",))[0]
        process.stdin.write(json.dumps({"id": 1, "texts": [text["text"], "x"]}) + "\n")
        process.stdin.write("not json\n")
        process.stdin.write(json.dumps({"id": 2, "texts": "x"}) + "\n")
        process.stdin.close()
        answers = [json.loads(line) for line in process.stdout]
        self.assertEqual(process.wait(), 0)
        process.stdout.close()
        first = answers[0]
        self.assertEqual((first["type"], first["id"], len(first["predictions"])), ("predictions", 1, 2))
        prediction = first["predictions"][0]
        self.assertEqual(prediction["label"], text["label"])
        probs = [p["probability"] for p in prediction["probabilities"]]
        self.assertEqual(probs, sorted(probs, reverse=True))
        self.assertAlmostEqual(sum(probs), 1.0)
        self.assertEqual(sorted(p["label"] for p in prediction["probabilities"]), ready["labels"])
        self.assertEqual(answers[1], {"type": "error", "id": None, "message": "the request is not JSON"})
        self.assertEqual(answers[2], {"type": "error", "id": 2, "message": "texts must be a list of strings"})


class RunInProcessTest(unittest.TestCase):
    """The Run's checks, with its events in a buffer."""

    def setUp(self) -> None:
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        for signum in (signal.SIGUSR1, signal.SIGUSR2, signal.SIGTERM):
            self.addCleanup(signal.signal, signum, signal.getsignal(signum))
        input_path = os.path.join(tmp.name, "input.json")
        with open(input_path, "w", encoding="utf-8") as file:
            json.dump({"version": 1, "jobId": "j", "config": {**CONFIG, "batchSize": 2, "future": 1},
                       "examples": [{"text": "a", "label": "x"}] * 5, "checkpoint": None}, file)
        self.out = io.StringIO()
        self.run_ = kit.Run({"TRAINER_INPUT": input_path, "TRAINER_WORKDIR": tmp.name},
                            events=self.out, watch_stdin=False)

    def lines(self) -> List[Dict[str, Any]]:
        return [json.loads(line) for line in self.out.getvalue().splitlines()]

    def prepare(self) -> None:
        self.run_.prepare(total_steps=6, steps_per_epoch=3, train_size=5, validation_size=2, labels=["x", "y"])

    def test_reads_the_input(self) -> None:
        run = self.run_
        self.assertEqual((run.job_id, run.config.batch_size, run.config.raw["future"]), ("j", 2, 1))
        self.assertEqual(run.examples[0], kit.Example("a", "x"))
        self.assertIsNone(run.load_checkpoint())

    def test_refuses_calls_out_of_order(self) -> None:
        with self.assertRaises(kit.ProtocolViolation):
            self.run_.report(1, 1, 0.5, 0.1)
        self.prepare()
        with self.assertRaises(kit.ProtocolViolation):
            self.run_.report(2, 1, 0.5, 0.1)
        self.run_.report(1, 1, 0.5, 0.1)
        with self.assertRaises(kit.ProtocolViolation):
            self.run_.done(None, "model")
        with self.assertRaises(ValueError):
            self.run_.report(2, 1, 0.5, 0.1, val_loss=0.3)
        with self.assertRaises(ValueError):
            self.run_.report(2, 1, float("nan"), 0.1)
        self.assertEqual([e["type"] for e in self.lines()], ["prepared", "step"])

    def test_validation_indices_must_name_validation_size_examples(self) -> None:
        with self.assertRaises(ValueError):
            self.run_.prepare(total_steps=6, steps_per_epoch=3, train_size=3, validation_size=2,
                              labels=["x"], validation_indices=[1, 5])
        self.run_.prepare(total_steps=6, steps_per_epoch=3, train_size=3, validation_size=2,
                          labels=["x"], validation_indices=[4, 1])
        self.assertEqual(self.lines()[0]["validationIndices"], [1, 4])

    def test_examples_seen_counts_full_batch_groups_per_epoch(self) -> None:
        self.prepare()
        self.assertEqual([self.run_.examples_seen(s) for s in range(1, 7)], [2, 4, 5, 7, 9, 10])

    def test_a_pause_is_answered_by_the_next_checkpoint_and_ends_the_run(self) -> None:
        self.prepare()
        self.assertFalse(self.run_.checkpoint_requested())
        os.kill(os.getpid(), signal.SIGUSR1)
        self.run_.report(1, 1, 0.5, 0.1)
        self.assertTrue(self.run_.checkpoint_requested())
        path = self.run_.save_checkpoint(1, 1, b"state-1")
        self.assertEqual(Path(path).read_bytes(), b"state-1")
        self.assertFalse(self.run_.checkpoint_requested())
        self.assertFalse(self.run_.should_stop())
        os.kill(os.getpid(), signal.SIGUSR2)
        self.run_.report(2, 1, 0.4, 0.1)
        self.assertTrue(self.run_.checkpoint_requested())
        self.run_.save_checkpoint(2, 1, b"state-2")
        self.assertTrue(self.run_.should_stop())
        self.assertEqual(signal.getsignal(signal.SIGUSR2), signal.SIG_IGN)
        with self.assertRaises(kit.ProtocolViolation):
            self.run_.report(3, 1, 0.4, 0.1)
        self.assertEqual([e["type"] for e in self.lines()],
                         ["prepared", "step", "checkpoint", "step", "checkpoint"])

    def test_no_checkpoint_at_the_last_step_and_done_adds_the_final_evaluation(self) -> None:
        self.prepare()
        metrics = kit.Metrics(val_loss=0.2, precision=1, recall=1, f1=1, accuracy=1)
        for step in range(1, 7):
            self.run_.report(step, (step - 1) // 3 + 1, 0.5, 0.1)
        os.kill(os.getpid(), signal.SIGUSR2)
        self.assertFalse(self.run_.checkpoint_requested())
        self.run_.done(metrics, "model.bin")
        final, artifact = self.lines()[-2:]
        self.assertEqual((final["type"], final["step"], final["epoch"], final["final"]), ("eval", 6, 2, True))
        self.assertEqual(artifact, {"type": "artifact", "path": os.path.abspath("model.bin")})
        self.assertEqual(signal.getsignal(signal.SIGUSR1), signal.SIG_IGN)


class HelpersTest(unittest.TestCase):
    def test_schedule_warms_up_then_decays_to_zero(self) -> None:
        config = kit.Config.from_json({**CONFIG, "learningRate": 1.0, "warmupSteps": 2})
        self.assertEqual([config.learning_rate_at(i, 6) for i in range(7)], [0, 0.5, 1, 0.75, 0.5, 0.25, 0])

    def test_config_rejects_bad_values(self) -> None:
        with self.assertRaisesRegex(ValueError, "batchSize"):
            kit.Config.from_json({**CONFIG, "batchSize": 0})
        with self.assertRaisesRegex(ValueError, "learningRate"):
            kit.Config.from_json({**CONFIG, "learningRate": "x"})

    def test_macro_metrics_count_unpredicted_classes_as_zero(self) -> None:
        m = kit.classification_metrics([0, 0, 1, 2], [0, 1, 1, 1], 3, val_loss=0.7)
        self.assertEqual(m.accuracy, 0.5)
        self.assertAlmostEqual(m.precision, (1 + 1 / 3 + 0) / 3)
        self.assertAlmostEqual(m.recall, (0.5 + 1 + 0) / 3)
        self.assertAlmostEqual(m.f1, (2 / 3 + 0.5 + 0) / 3)

    def test_stratified_split_holds_out_a_share_of_every_label(self) -> None:
        labels = ["a"] * 20 + ["b"] * 7 + ["c"] * 2 + ["d"]
        train, validation = kit.stratified_split(labels, seed=5)
        self.assertEqual(sorted(train + validation), list(range(len(labels))))
        self.assertEqual(Counter(labels[i] for i in validation), {"a": 3, "b": 1, "c": 1})
        self.assertEqual((train, validation), kit.stratified_split(labels, seed=5))
        self.assertNotEqual(validation, kit.stratified_split(labels, seed=6)[1])

    def test_defaults_refuse_both_warmups(self) -> None:
        self.assertEqual(kit.Defaults(learning_rate=0.1, warmup_steps=5).to_json(),
                         {"learningRate": 0.1, "warmupSteps": 5})
        with self.assertRaises(ValueError):
            kit.Defaults(warmup_steps=5, warmup_ratio=0.1).to_json()
        with self.assertRaises(ValueError):
            kit.Defaults(warmup_ratio=0.9).to_json()


if __name__ == "__main__":
    unittest.main()
