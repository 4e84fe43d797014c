"""A trainer command alone, run by the kit's harness as the server would run it, without a server.

    /usr/bin/python3 bench/byo/alone.py "<trainer command>" input.json

input.json holds the job's `config` and `examples` (what the runner gives the trainer). Prints
one JSON line: `times`, the moment each step was read from the trainer's stdout (seconds, step
1 first), `stepsPerEpoch`, and the final evaluation's macro-F1.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "trainers" / "python"))

from harness import Trainer  # noqa: E402


def main() -> None:
    command, input_path = sys.argv[1], sys.argv[2]
    with open(input_path, encoding="utf-8") as file:
        job = json.load(file)
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(command, tmp, job["config"], job["examples"])
        try:
            prepared = trainer.read_until("prepared")
            times = []
            final = None
            while (event := trainer.next_event()) is not None:
                if event["type"] == "step":
                    times.append(time.perf_counter())
                elif event["type"] == "eval":
                    final = event
            if trainer.process.wait() != 0 or len(times) != prepared["totalSteps"] or final is None:
                raise SystemExit(f"the trainer failed: {trainer.stderr_text()}")
        finally:
            trainer.close()
    print(json.dumps({"times": times, "stepsPerEpoch": prepared["stepsPerEpoch"], "macroF1": final["f1"]}))


if __name__ == "__main__":
    main()
