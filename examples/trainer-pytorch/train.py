"""A PyTorch text classifier for TRAINER=command, on the Python trainer kit.

An EmbeddingBag over a vocabulary of words and word bigrams built from the training split,
then a linear layer: fastText's architecture. AdamW with the job's linear warm-up and decay,
gradient accumulation, decoupled weight decay (not on biases), CUDA when available and fp16
autocast there when the job asks for mixed precision. A checkpoint holds the model, optimizer,
scheduler, gradient scaler and RNG states: a paused and resumed run ends with the same weights
as one straight through. ``TRAINER_MODE=predict`` serves the artifact,
``TRAINER_MODE=describe`` declares the recommended learning rate and warm-up.

    TRAINER=command TRAINER_COMMAND="/usr/bin/python3 examples/trainer-pytorch/train.py" npm start
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import torch
from torch import nn

# The kit lives in trainers/python of this repository; a copy next to this file works as well.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "trainers" / "python"))
import trainer_kit as kit  # noqa: E402

CHECKPOINT_FORMAT = "pytorch-example-checkpoint/1"
MODEL_FORMAT = "pytorch-example-model/1"
EMBEDDING_DIM = 64
DROPOUT = 0.1
MAX_VOCABULARY = 50_000
MAX_GRAD_NORM = 1.0
# Found on the demo corpus (bench: evaluate.py): far above Transformer fine-tuning rates, as
# usual for a shallow model trained from scratch.
DEFAULTS = kit.Defaults(learning_rate=0.02, warmup_ratio=0.1)

WORD = re.compile(r"\w+")


def tokens(text: str) -> List[str]:
    """Lower-cased words and adjacent word pairs."""
    words = WORD.findall(text.lower())
    return words + [f"{a} {b}" for a, b in zip(words, words[1:])]


class Vocabulary:
    """Token → index for the tokens of the training texts, most frequent first."""

    def __init__(self, items: Sequence[str]) -> None:
        self.items = list(items)
        self.index = {token: i for i, token in enumerate(self.items)}

    @staticmethod
    def build(texts: Sequence[str]) -> "Vocabulary":
        counts: Dict[str, int] = {}
        for text in texts:
            for token in tokens(text):
                counts[token] = counts.get(token, 0) + 1
        ranked = sorted(counts, key=lambda t: (-counts[t], t))
        return Vocabulary(ranked[:MAX_VOCABULARY])

    def encode(self, text: str) -> torch.Tensor:
        """The indices of a text's known tokens (possibly none)."""
        return torch.tensor([self.index[t] for t in tokens(text) if t in self.index], dtype=torch.long)


class TextClassifier(nn.Module):
    def __init__(self, vocabulary_size: int, classes: int) -> None:
        super().__init__()
        self.embedding = nn.EmbeddingBag(vocabulary_size, EMBEDDING_DIM, mode="mean")
        self.dropout = nn.Dropout(DROPOUT)
        self.output = nn.Linear(EMBEDDING_DIM, classes)

    def forward(self, ids: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        return self.output(self.dropout(self.embedding(ids, offsets)))


def bag(encoded: Sequence[torch.Tensor], device: torch.device) -> Tuple[torch.Tensor, torch.Tensor]:
    """EmbeddingBag's input for a batch: the indices in one row and where each text starts."""
    lengths = torch.tensor([0] + [len(e) for e in encoded[:-1]], dtype=torch.long)
    return torch.cat(list(encoded)).to(device), torch.cumsum(lengths, 0).to(device)


@dataclass(frozen=True)
class Plan:
    """The optimizer steps of a run, as the built-in trainer counts them."""

    batches_per_epoch: int
    steps_per_epoch: int
    total_steps: int

    @staticmethod
    def of(train_size: int, config: kit.Config) -> "Plan":
        batches = -(-train_size // config.batch_size)
        steps = -(-batches // config.gradient_accumulation)
        return Plan(batches, steps, steps * config.epochs)

    def batches_of_step(self, index: int, accumulation: int) -> range:
        """The batches (0-based, within the epoch) of the optimizer step with 0-based ``index``."""
        in_epoch = index % self.steps_per_epoch
        first = in_epoch * accumulation
        return range(first, min(first + accumulation, self.batches_per_epoch))


def device_and_precision(mixed_precision: bool) -> Tuple[torch.device, str, Optional[str]]:
    """Where to train, in which precision, and a note when the job's wish does not apply."""
    if torch.cuda.is_available():
        return torch.device("cuda"), "fp16" if mixed_precision else "fp32", None
    note = None
    if mixed_precision:
        # bf16 autocast on CPU runs this model slower than fp32: fp16 autocast is a GPU feature.
        note = "mixedPrecision applies on a GPU only: on CPU this trainer computes in fp32"
    return torch.device("cpu"), "fp32", note


def train(run: kit.Run) -> None:
    config = run.config
    device, precision, note = device_and_precision(config.mixed_precision)
    if note:
        kit.log.info(note)
    labels = sorted({e.label for e in run.examples})
    targets = torch.tensor([labels.index(e.label) for e in run.examples], dtype=torch.long)
    train_ids, validation_ids = kit.stratified_split([e.label for e in run.examples], config.seed)
    vocabulary = Vocabulary.build([run.examples[i].text for i in train_ids])
    encoded = [vocabulary.encode(e.text) for e in run.examples]
    plan = Plan.of(len(train_ids), config)

    torch.manual_seed(config.seed)
    model = TextClassifier(len(vocabulary.items), len(labels)).to(device)
    decay = [p for name, p in model.named_parameters() if not name.endswith("bias")]
    no_decay = [p for name, p in model.named_parameters() if name.endswith("bias")]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=config.learning_rate,
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda i: config.learning_rate_at(i, plan.total_steps) / config.learning_rate
    )
    autocast = precision == "fp16"

    def forward_precision() -> contextlib.AbstractContextManager:
        # Not torch.autocast(enabled=False): on CPU it warns about fp16 at every call.
        return torch.autocast("cuda", dtype=torch.float16) if autocast else contextlib.nullcontext()

    scaler = torch.cuda.amp.GradScaler(enabled=autocast)
    loss_of = nn.CrossEntropyLoss(reduction="sum")
    run_fingerprint = run.fingerprint()

    start = 0
    saved = run.load_checkpoint()
    if saved is not None:
        # The file is this trainer's own, handed back by the server. (torch 1.13's weights-only
        # loader cannot read the optimizer's float settings.)
        state = torch.load(io.BytesIO(saved), map_location=device, weights_only=False)
        if state["format"] != CHECKPOINT_FORMAT or state["fingerprint"] != run_fingerprint:
            raise SystemExit("the checkpoint comes from another trainer, data or config")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        scaler.load_state_dict(state["scaler"])
        torch.set_rng_state(state["rng"]["cpu"])
        if device.type == "cuda":
            torch.cuda.set_rng_state_all(state["rng"]["cuda"])
        start = state["step"]

    def checkpoint(step: int) -> bytes:
        buffer = io.BytesIO()
        torch.save(
            {
                "format": CHECKPOINT_FORMAT,
                "fingerprint": run_fingerprint,
                "step": step,
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "scaler": scaler.state_dict(),
                "rng": {
                    "cpu": torch.get_rng_state(),
                    "cuda": torch.cuda.get_rng_state_all() if device.type == "cuda" else [],
                },
            },
            buffer,
        )
        return buffer.getvalue()

    def evaluate() -> kit.Metrics:
        model.eval()
        with torch.no_grad(), forward_precision():
            logits = model(*bag([encoded[i] for i in validation_ids], device)).float()
        model.train()
        truth = targets[validation_ids].to(device)
        val_loss = nn.functional.cross_entropy(logits, truth).item()
        predicted = logits.argmax(dim=1).tolist()
        return kit.classification_metrics(truth.tolist(), predicted, len(labels), val_loss)

    run.prepare(
        total_steps=plan.total_steps,
        steps_per_epoch=plan.steps_per_epoch,
        train_size=len(train_ids),
        validation_size=len(validation_ids),
        labels=labels,
        precision=precision,
        resumed_from_step=start,
        note=note,
        validation_indices=validation_ids,
    )
    model.train()
    order: List[int] = []
    order_epoch = -1
    for index in range(start, plan.total_steps):
        epoch_index = index // plan.steps_per_epoch
        if epoch_index != order_epoch:
            # Each epoch's order depends on the seed and the epoch only: a resume needs no state.
            generator = torch.Generator().manual_seed(config.seed * 1000 + epoch_index)
            order = [train_ids[i] for i in torch.randperm(len(train_ids), generator=generator).tolist()]
            order_epoch = epoch_index
        batches = [
            order[b * config.batch_size : (b + 1) * config.batch_size]
            for b in plan.batches_of_step(index, config.gradient_accumulation)
        ]
        group_size = sum(len(b) for b in batches)
        total_loss = 0.0
        for batch in batches:
            with forward_precision():
                logits = model(*bag([encoded[i] for i in batch], device))
                loss = loss_of(logits.float(), targets[batch].to(device)) / group_size
            scaler.scale(loss).backward()
            total_loss += loss.item()
        scaler.unscale_(optimizer)
        nn.utils.clip_grad_norm_(model.parameters(), MAX_GRAD_NORM)
        lr = scheduler.get_last_lr()[0]
        scaler.step(optimizer)
        scaler.update()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)

        step, epoch = index + 1, epoch_index + 1
        run.report(step, epoch, total_loss, lr, metrics=evaluate() if step % plan.steps_per_epoch == 0 else None)
        if run.checkpoint_requested():
            run.save_checkpoint(step, epoch, checkpoint(step))
        if run.should_stop():
            return

    artifact = os.path.join(run.workdir, "model.pt")
    torch.save(
        {
            "format": MODEL_FORMAT,
            "labels": labels,
            "vocabulary": vocabulary.items,
            "model": {k: v.cpu() for k, v in model.state_dict().items()},
        },
        artifact,
    )
    run.done(None, artifact)


class TorchPredictor(kit.Predictor):
    """A trained artifact, on CPU (one text at a time is faster there than a GPU round trip)."""

    def __init__(self, path: str) -> None:
        # One thread: requests are small, and several predictors may share the machine.
        torch.set_num_threads(1)
        saved = torch.load(path, map_location="cpu", weights_only=True)
        if saved.get("format") != MODEL_FORMAT:
            raise SystemExit(f"{path} is not a model of this trainer")
        self.labels = saved["labels"]
        self.vocabulary = Vocabulary(saved["vocabulary"])
        self.model = TextClassifier(len(self.vocabulary.items), len(self.labels))
        self.model.load_state_dict(saved["model"])
        self.model.eval()

    def predict(self, texts: Sequence[str]) -> List[Mapping[str, float]]:
        with torch.no_grad():
            logits = self.model(*bag([self.vocabulary.encode(t) for t in texts], torch.device("cpu")))
        return [dict(zip(self.labels, row)) for row in torch.softmax(logits, dim=1).tolist()]


if __name__ == "__main__":
    kit.main(train, defaults=DEFAULTS, load_predictor=TorchPredictor)
