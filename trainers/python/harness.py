"""Runs a trainer command the way the server does, for tests of trainers (standard library only).

``/bin/sh -c`` with ``USR1``/``USR2`` ignored, a process group of its own, stdin an open pipe
nothing is written to, an input file and an empty work directory, protocol lines read from
stdout no faster than the test consumes them (so a trainer waits on the full pipe, as under the
server), stderr kept in a file.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

DEMO = Path(__file__).resolve().parents[2] / "demo" / "documents.jsonl"
# The server's chunking (src/dataset/constants.ts): 200 words, 20 shared with the next chunk.
CHUNK_WORDS = 200
CHUNK_OVERLAP = 20


def chunks(text: str) -> List[str]:
    """A text cut as the server cuts documents into training examples (words joined by spaces)."""
    words = text.split()
    out = []
    for first in range(0, len(words), CHUNK_WORDS - CHUNK_OVERLAP):
        out.append(" ".join(words[first : first + CHUNK_WORDS]))
        if first + CHUNK_WORDS >= len(words):
            break
    return out


def demo_examples(states: Sequence[str] = (), chunked: bool = False) -> List[Dict[str, str]]:
    """The training-allowed documents of the bundled demo corpus (of ``states``, or all) as
    examples: whole, or in chunks as the server would send them."""
    with open(DEMO, encoding="utf-8") as file:
        docs = [json.loads(line) for line in file]
    return [
        {"text": text, "label": d["docType"]}
        for d in docs
        if d["trainingAllowed"] and (not states or d["bundesland"] in states)
        for text in (chunks(d["text"]) if chunked else [d["text"]])
    ]


class Trainer:
    """One trainer process under test."""

    def __init__(self, command: str, workdir: str, config: Dict[str, Any],
                 examples: Sequence[Dict[str, str]], checkpoint: Optional[str] = None,
                 env: Optional[Dict[str, str]] = None, cwd: Optional[str] = None) -> None:
        input_path = os.path.join(workdir, "input.json")
        with open(input_path, "w", encoding="utf-8") as file:
            json.dump({"version": 1, "jobId": "job-1", "config": config,
                       "examples": list(examples), "checkpoint": checkpoint}, file)
        work = tempfile.mkdtemp(dir=workdir)
        self.stderr = tempfile.TemporaryFile(dir=workdir)
        self.process = subprocess.Popen(
            ["/bin/sh", "-c", f"trap '' USR1 USR2\n{command}"],
            cwd=cwd,
            env={**os.environ, "TRAINER_INPUT": input_path, "TRAINER_WORKDIR": work, **(env or {})},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            start_new_session=True,
        )
        self.events: List[Dict[str, Any]] = []

    def next_event(self) -> Optional[Dict[str, Any]]:
        assert self.process.stdout is not None
        while True:
            line = self.process.stdout.readline()
            if not line:
                return None
            if line.strip():
                event = json.loads(line)
                self.events.append(event)
                return event

    def read_until(self, kind: str) -> Dict[str, Any]:
        while True:
            event = self.next_event()
            if event is None:
                raise AssertionError(f"the trainer ended before a {kind!r} line: {self.stderr_text()}")
            if event["type"] == kind:
                return event

    def signal(self, signum: int) -> None:
        os.killpg(self.process.pid, signum)

    def finish(self) -> int:
        while self.next_event() is not None:
            pass
        assert self.process.stdin is not None
        self.process.stdin.close()
        return self.process.wait()

    def stderr_text(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read().decode("utf-8", "replace")

    def file(self, event: Dict[str, Any]) -> bytes:
        return Path(event["path"]).read_bytes()

    def close(self) -> None:
        """Kills the process if it still runs and closes the pipes."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                pipe.close()
        self.stderr.close()
