"""The PyTorch example through real processes, started the way the server starts trainers.

    /usr/bin/python3 -m unittest discover -s examples/trainer-pytorch/tests -v
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import unittest
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List

import torch

EXAMPLE = Path(__file__).resolve().parents[1]
ROOT = EXAMPLE.parents[1]
sys.path.insert(0, str(ROOT / "trainers" / "python"))
sys.path.insert(0, str(EXAMPLE))

import train  # noqa: E402
import trainer_kit as kit  # noqa: E402
import harness  # noqa: E402
from harness import Trainer  # noqa: E402

COMMAND = f"{sys.executable} {EXAMPLE / 'train.py'}"


EXAMPLES = harness.demo_examples()
# The API's defaults, with the trainer's recommended learning rate and warm-up (10% of 80 steps).
JOB_CONFIG = {
    "batchSize": 16,
    "learningRate": 0.02,
    "epochs": 10,
    "warmupSteps": 8,
    "weightDecay": 0.01,
    "gradientAccumulation": 4,
    "mixedPrecision": True,
    "seed": 42,
}


class Runs:
    """Trainer processes in a temporary directory, cleaned up with it."""

    def __init__(self) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        self.trainers: List[Trainer] = []

    def start(self, config: Dict[str, Any], checkpoint: str | None = None) -> Trainer:
        trainer = Trainer(COMMAND, tempfile.mkdtemp(dir=self.tmp.name), config, EXAMPLES,
                          checkpoint=checkpoint, cwd=str(ROOT))
        self.trainers.append(trainer)
        return trainer

    def run(self, config: Dict[str, Any], checkpoint: str | None = None) -> Trainer:
        trainer = self.start(config, checkpoint)
        code = trainer.finish()
        if code != 0:
            raise AssertionError(f"exit code {code}: {trainer.stderr_text()}")
        return trainer

    def keep(self, data: bytes, name: str) -> str:
        path = os.path.join(self.tmp.name, name)
        Path(path).write_bytes(data)
        return path

    def close(self) -> None:
        for trainer in self.trainers:
            trainer.close()
        self.tmp.cleanup()


def of_type(trainer: Trainer, kind: str) -> List[Dict[str, Any]]:
    return [e for e in trainer.events if e["type"] == kind]


class LearningTest(unittest.TestCase):
    runs: Runs
    trainer: Trainer
    artifact: str

    @classmethod
    def setUpClass(cls) -> None:
        cls.runs = Runs()
        cls.trainer = cls.runs.run(JOB_CONFIG)
        cls.artifact = cls.runs.keep(cls.trainer.file(cls.trainer.events[-1]), "model.pt")

    @classmethod
    def tearDownClass(cls) -> None:
        cls.runs.close()

    def test_learns_on_the_demo_corpus(self) -> None:
        evals = of_type(self.trainer, "eval")
        self.assertEqual(len(evals), JOB_CONFIG["epochs"])
        self.assertLess(evals[-1]["valLoss"], evals[0]["valLoss"])
        # The majority class on the same validation split.
        _, validation = kit.stratified_split([e["label"] for e in EXAMPLES], JOB_CONFIG["seed"])
        self.assertEqual(self.trainer.events[0]["validationIndices"], validation)
        truth = [EXAMPLES[i]["label"] for i in validation]
        majority = Counter(truth).most_common(1)[0][0]
        labels = sorted(set(truth))
        baseline = kit.classification_metrics(
            [labels.index(t) for t in truth], [labels.index(majority)] * len(truth), len(labels), 0.0
        )
        self.assertGreater(evals[-1]["f1"], baseline.f1 + 0.5)
        self.assertTrue(evals[-1]["final"])

    def test_follows_the_jobs_schedule_and_batches(self) -> None:
        prepared = self.trainer.events[0]
        plan = train.Plan.of(prepared["trainSize"], kit.Config.from_json(JOB_CONFIG))
        self.assertEqual(prepared["totalSteps"], plan.total_steps)
        self.assertEqual(prepared["stepsPerEpoch"], -(-prepared["trainSize"] // 64))
        config = kit.Config.from_json(JOB_CONFIG)
        for e in of_type(self.trainer, "step"):
            self.assertAlmostEqual(e["learningRate"], config.learning_rate_at(e["step"] - 1, plan.total_steps))

    def test_mixed_precision_is_fp16_on_a_gpu_and_fp32_with_a_note_on_cpu(self) -> None:
        prepared = self.trainer.events[0]
        if torch.cuda.is_available():
            self.assertEqual(prepared["precision"], "fp16")
        else:
            self.assertEqual(prepared["precision"], "fp32")
            self.assertIn("GPU only", prepared["note"])
            self.assertIn('"level": "info"', self.trainer.stderr_text())

    def test_predict_mode_serves_the_artifact(self) -> None:
        process = subprocess.Popen(
            [sys.executable, str(EXAMPLE / "train.py")],
            env={**os.environ, "TRAINER_MODE": "predict", "TRAINER_ARTIFACT": self.artifact},
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        assert process.stdin is not None and process.stdout is not None
        ready = json.loads(process.stdout.readline())
        self.assertEqual(ready, {"type": "ready", "labels": self.trainer.events[0]["labels"]})
        texts = EXAMPLES[:20]
        process.stdin.write(json.dumps({"id": 1, "texts": [e["text"] for e in texts]}) + "\n")
        process.stdin.flush()
        answer = json.loads(process.stdout.readline())
        process.stdin.close()
        self.assertEqual(process.wait(), 0)
        process.stdout.close()
        self.assertEqual((answer["type"], answer["id"]), ("predictions", 1))
        predicted = [p["label"] for p in answer["predictions"]]
        right = sum(p == e["label"] for p, e in zip(predicted, texts))
        self.assertGreaterEqual(right, 15)
        for p in answer["predictions"]:
            self.assertAlmostEqual(sum(x["probability"] for x in p["probabilities"]), 1.0, places=5)


class ResumeTest(unittest.TestCase):
    def setUp(self) -> None:
        self.runs = Runs()
        self.addCleanup(self.runs.close)

    def test_a_paused_and_resumed_run_ends_with_the_weights_of_a_straight_run(self) -> None:
        # Small batches, many steps: the pause lands long before the end, since the trainer is
        # at most a pipe's worth of lines ahead of the reader.
        config = {**JOB_CONFIG, "batchSize": 4, "gradientAccumulation": 1, "epochs": 6, "warmupSteps": 70}
        straight = self.runs.run(config)

        paused = self.runs.start(config)
        paused.read_until("step")
        paused.signal(signal.SIGUSR2)
        checkpoint = paused.read_until("checkpoint")
        self.assertEqual(paused.finish(), 0, paused.stderr_text())
        self.assertEqual(paused.events[-1], checkpoint)

        resumed = self.runs.run(config, self.runs.keep(paused.file(checkpoint), "checkpoint"))
        self.assertEqual(resumed.events[0]["resumedFromStep"], checkpoint["step"])

        def weights(trainer: Trainer) -> Dict[str, torch.Tensor]:
            saved = torch.load(io.BytesIO(trainer.file(trainer.events[-1])), weights_only=True)
            return saved["model"]

        expected, actual = weights(straight), weights(resumed)
        self.assertEqual(expected.keys(), actual.keys())
        for name in expected:
            self.assertTrue(torch.equal(expected[name], actual[name]), name)
        reference = {(e["type"], e["step"]): e for e in straight.events if e["type"] in ("step", "eval")}
        after = [e for e in resumed.events if e["type"] in ("step", "eval")]
        self.assertEqual(after[0]["step"], checkpoint["step"] + 1)
        for e in after:
            expected_event = reference[(e["type"], e["step"])]
            for key in ("loss", "valLoss", "f1"):
                if key in e:
                    self.assertAlmostEqual(e[key], expected_event[key], delta=1e-6)


class DescribeTest(unittest.TestCase):
    def test_declares_the_recommended_learning_rate_and_warmup(self) -> None:
        out = subprocess.run(
            [sys.executable, str(EXAMPLE / "train.py")],
            env={**os.environ, "TRAINER_MODE": "describe"},
            capture_output=True, text=True, check=True,
        )
        self.assertEqual(
            json.loads(out.stdout),
            {"type": "describe", "version": 1, "predict": True,
             "defaults": {"learningRate": 0.02, "warmupRatio": 0.1}},
        )


if __name__ == "__main__":
    unittest.main()
