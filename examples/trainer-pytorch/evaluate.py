"""Trains the PyTorch example on the bundled demo corpus and prints how good and how fast it is.

Compared on the trainer's own validation split with a scikit-learn reference (TF-IDF of words
and bigrams, logistic regression) and the majority-class baseline; the trainer runs as the
server runs it (harness.py), with the API's default settings and the trainer's recommended
learning rate and warm-up. Figures are only worth keeping from a quiet machine.

    /usr/bin/python3 examples/trainer-pytorch/evaluate.py [--states NW,BY] [--requests 200]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Dict, List, Sequence

EXAMPLE = Path(__file__).resolve().parent
ROOT = EXAMPLE.parents[1]
sys.path.insert(0, str(ROOT / "trainers" / "python"))
sys.path.insert(0, str(EXAMPLE))

import train  # noqa: E402
import trainer_kit as kit  # noqa: E402
import harness  # noqa: E402
from harness import Trainer  # noqa: E402

def job_config(train_size: int) -> Dict[str, object]:
    """The API's defaults with the trainer's recommended learning rate and warm-up."""
    config: Dict[str, object] = {
        "batchSize": 16,
        "learningRate": train.DEFAULTS.learning_rate,
        "epochs": 10,
        "warmupSteps": 0,
        "weightDecay": 0.01,
        "gradientAccumulation": 4,
        "mixedPrecision": True,
        "seed": 42,
    }
    plan = train.Plan.of(train_size, kit.Config.from_json(config))
    config["warmupSteps"] = round((train.DEFAULTS.warmup_ratio or 0) * plan.total_steps)
    return config


def macro_f1(truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> float:
    index = {label: i for i, label in enumerate(labels)}
    return kit.classification_metrics(
        [index[t] for t in truth], [index[p] for p in predicted], len(labels), 0.0
    ).f1


def reference_f1(examples: List[Dict[str, str]], train_ids: List[int], validation_ids: List[int]) -> float:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    x_train = vectorizer.fit_transform([examples[i]["text"] for i in train_ids])
    model = LogisticRegression(max_iter=2000).fit(x_train, [examples[i]["label"] for i in train_ids])
    predicted = model.predict(vectorizer.transform([examples[i]["text"] for i in validation_ids]))
    labels = sorted({e["label"] for e in examples})
    return macro_f1([examples[i]["label"] for i in validation_ids], list(predicted), labels)


def predict_latencies(artifact: str, texts: Sequence[str]) -> List[float]:
    """Round trips of one-text requests to a warm predict process, in milliseconds."""
    process = subprocess.Popen(
        [sys.executable, str(EXAMPLE / "train.py")],
        env={**os.environ, "TRAINER_MODE": "predict", "TRAINER_ARTIFACT": artifact},
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    json.loads(process.stdout.readline())  # ready
    latencies = []
    for n, text in enumerate(texts):
        began = time.perf_counter()
        process.stdin.write(json.dumps({"id": n, "texts": [text]}) + "\n")
        process.stdin.flush()
        answer = json.loads(process.stdout.readline())
        latencies.append((time.perf_counter() - began) * 1000)
        if answer["type"] != "predictions":
            raise RuntimeError(f"predict failed: {answer}")
    process.stdin.close()
    process.wait()
    process.stdout.close()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--states", default="", help="comma-separated state codes (default: all)")
    parser.add_argument("--requests", type=int, default=200, help="predict requests to time")
    args = parser.parse_args()
    examples = harness.demo_examples([s for s in args.states.split(",") if s], chunked=True)
    labels = sorted({e["label"] for e in examples})
    train_ids, validation_ids = kit.stratified_split([e["label"] for e in examples], 42)
    config = job_config(len(train_ids))

    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(f"{sys.executable} {EXAMPLE / 'train.py'}", tmp, config, examples, cwd=str(ROOT))
        try:
            trainer.read_until("prepared")
            began = time.perf_counter()
            final = None
            while (event := trainer.next_event()) is not None:
                if event["type"] == "step" and event["step"] == trainer.events[0]["totalSteps"]:
                    elapsed = time.perf_counter() - began
                if event["type"] == "eval":
                    final = event
            if trainer.process.wait() != 0 or final is None:
                raise SystemExit(f"the trainer failed: {trainer.stderr_text()}")
            artifact = os.path.join(tmp, "model.pt")
            Path(artifact).write_bytes(trainer.file(trainer.events[-1]))
        finally:
            trainer.close()
        texts = [examples[i]["text"] for i in validation_ids]
        latencies = predict_latencies(artifact, (texts * (args.requests // len(texts) + 1))[: args.requests])

    truth = [examples[i]["label"] for i in validation_ids]
    majority = Counter(examples[i]["label"] for i in train_ids).most_common(1)[0][0]
    steps = trainer.events[0]["totalSteps"]
    figures = {
        "examples": len(examples),
        "trainSize": len(train_ids),
        "validationSize": len(validation_ids),
        "config": config,
        "macroF1": round(final["f1"], 3),
        "sklearnTfidfLogRegMacroF1": round(reference_f1(examples, train_ids, validation_ids), 3),
        "majorityBaselineMacroF1": round(macro_f1(truth, [majority] * len(truth), labels), 3),
        "steps": steps,
        "stepsPerSecond": round(steps / elapsed, 1),
        "predictOneTextMs": {
            "p50": round(statistics.median(latencies), 2),
            "p95": round(sorted(latencies)[int(0.95 * (len(latencies) - 1))], 2),
        },
        "torch": train.torch.__version__,
        "device": "cuda" if train.torch.cuda.is_available() else "cpu",
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
