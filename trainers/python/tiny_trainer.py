"""A complete trainer on the kit, standard library only: softmax regression over hashed words.

Small enough to read in one go and a template for your own: the job's schedule, weight decay
and batch groups, a stratified hold-out, an evaluation per epoch, exact resume from its JSON
checkpoint, and the predict mode. The tests run it under the real server.

    TRAINER_INPUT=input.json TRAINER_WORKDIR=$(mktemp -d) python3 tiny_trainer.py
"""

from __future__ import annotations

import json
import math
import os
import random
import re
import zlib
from typing import Dict, List, Mapping, Sequence, Tuple

import trainer_kit as kit

BUCKETS = 2048
FORMAT = "tiny-trainer/1"

Features = List[Tuple[int, float]]


def featurize(text: str) -> Features:
    """Words hashed into BUCKETS (crc32: stable across processes), present (1) or not."""
    counts: Dict[int, int] = {}
    for word in re.findall(r"\w+", text.lower()):
        bucket = zlib.crc32(word.encode("utf-8")) % BUCKETS
        counts[bucket] = counts.get(bucket, 0) + 1
    return [(b, 1.0) for b in sorted(counts)]


def probabilities(weights: List[List[float]], x: Features) -> List[float]:
    scores = [row[-1] + sum(row[b] * v for b, v in x) for row in weights]
    top = max(scores)
    exps = [math.exp(s - top) for s in scores]
    total = sum(exps)
    return [e / total for e in exps]


def train(run: kit.Run) -> None:
    config = run.config
    labels = sorted({e.label for e in run.examples})
    target = [labels.index(e.label) for e in run.examples]
    features = [featurize(e.text) for e in run.examples]
    train_ids, validation_ids = kit.stratified_split([e.label for e in run.examples], config.seed)
    per_step = config.batch_size * config.gradient_accumulation
    steps_per_epoch = -(-len(train_ids) // per_step)
    total = steps_per_epoch * config.epochs
    fingerprint = run.fingerprint()

    weights = [[0.0] * (BUCKETS + 1) for _ in labels]  # the last column is the bias
    start = 0
    saved = run.load_checkpoint()
    if saved is not None:
        state = json.loads(saved)
        if state.get("format") != FORMAT or state.get("fingerprint") != fingerprint:
            raise SystemExit("the checkpoint comes from another trainer, data or config")
        weights, start = state["weights"], state["step"]

    run.prepare(
        total_steps=total,
        steps_per_epoch=steps_per_epoch,
        train_size=len(train_ids),
        validation_size=len(validation_ids),
        labels=labels,
        resumed_from_step=start,
        validation_indices=validation_ids,
        note="mixedPrecision does not apply: pure Python in fp64" if config.mixed_precision else None,
    )
    for index in range(start, total):
        epoch_index, in_epoch = divmod(index, steps_per_epoch)
        # Each epoch's order is a function of the seed and the epoch: a resume needs no RNG state.
        order = list(train_ids)
        random.Random(config.seed * 7919 + epoch_index + 1).shuffle(order)
        batch = order[in_epoch * per_step : (in_epoch + 1) * per_step]
        lr = config.learning_rate_at(index, total)
        loss = 0.0
        gradients = []
        for i in batch:
            p = probabilities(weights, features[i])
            loss -= math.log(max(p[target[i]], 1e-12))
            gradients.append((i, p))
        keep = 1 - lr * config.weight_decay
        for row in weights:
            for b in range(BUCKETS):
                row[b] *= keep
        for i, p in gradients:
            for c, row in enumerate(weights):
                g = (p[c] - (1.0 if c == target[i] else 0.0)) * lr / len(batch)
                row[-1] -= g
                for b, v in features[i]:
                    row[b] -= g * v
        step, epoch = index + 1, epoch_index + 1
        metrics = None
        if step % steps_per_epoch == 0:
            metrics = evaluate(weights, features, target, validation_ids, len(labels))
        run.report(step, epoch, loss / len(batch), lr, metrics=metrics)
        if run.checkpoint_requested():
            state = {"format": FORMAT, "fingerprint": fingerprint, "step": step, "weights": weights}
            run.save_checkpoint(step, epoch, json.dumps(state).encode())
        if run.should_stop():
            return
    artifact = os.path.join(run.workdir, "model.json")
    with open(artifact, "w", encoding="utf-8") as file:
        json.dump({"format": FORMAT, "labels": labels, "weights": weights}, file)
    run.done(None, artifact)


def evaluate(
    weights: List[List[float]], features: List[Features], target: List[int], ids: List[int], classes: int
) -> kit.Metrics:
    loss = 0.0
    predicted = []
    for i in ids:
        p = probabilities(weights, features[i])
        loss -= math.log(max(p[target[i]], 1e-12))
        predicted.append(max(range(classes), key=p.__getitem__))
    return kit.classification_metrics([target[i] for i in ids], predicted, classes, loss / len(ids))


class TinyPredictor(kit.Predictor):
    def __init__(self, path: str) -> None:
        with open(path, encoding="utf-8") as file:
            model = json.load(file)
        if model.get("format") != FORMAT:
            raise SystemExit(f"{path} is not a model of this trainer")
        self.labels = model["labels"]
        self.weights = model["weights"]

    def predict(self, texts: Sequence[str]) -> List[Mapping[str, float]]:
        return [dict(zip(self.labels, probabilities(self.weights, featurize(t)))) for t in texts]


if __name__ == "__main__":
    kit.main(train, defaults=kit.Defaults(learning_rate=0.1, warmup_ratio=0.1), load_predictor=TinyPredictor)
