"""The `kabar ingest` progress bar on a terminal (rich), fed by ``ingest_sources``'s
``IngestProgress`` hook: files and articles done, articles per second, time left (from the
bytes read). It appears only once a run has taken longer than ``SHOW_AFTER_SECONDS``; when
stderr is not a terminal nothing is drawn and the output stays the one summary line."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

SHOW_AFTER_SECONDS = 1.0  # a quicker run prints its summary line only


class IngestBar:
    """An ``IngestProgress`` that draws a rich bar on ``stream`` (a terminal)."""

    def __init__(
        self,
        stream: TextIO,
        show_after: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._console = Console(file=stream, force_terminal=True)
        self._show_after = SHOW_AFTER_SECONDS if show_after is None else show_after
        self._clock = clock
        self._started = clock()
        self._files = 0
        self._total_bytes = 0
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def start(self, files: int, total_bytes: int) -> None:
        self._started, self._files, self._total_bytes = self._clock(), files, total_bytes

    def advance(self, *, files_done: int, articles: int, bytes_done: int) -> None:
        elapsed = self._clock() - self._started
        if self._progress is None:
            if elapsed < self._show_after:
                return
            self._show()
        assert self._progress is not None and self._task is not None
        rate = articles / elapsed if elapsed > 0 else 0.0
        self._progress.update(
            self._task,
            completed=bytes_done,
            files=f"{files_done}/{self._files}",
            articles=articles,
            rate=f"{rate:,.0f}",
        )

    def _show(self) -> None:
        self._progress = Progress(
            TextColumn("ingest"),
            BarColumn(),
            TextColumn("files {task.fields[files]}"),
            TextColumn("{task.fields[articles]:,} articles"),
            TextColumn("{task.fields[rate]} articles/s"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self._console,
        )
        self._task = self._progress.add_task(
            "ingest", total=max(self._total_bytes, 1), files="0/0", articles=0, rate="0"
        )
        self._progress.start()

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def __enter__(self) -> IngestBar:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def terminal_bar(stream: TextIO | None = None) -> IngestBar | None:
    """A bar on ``stream`` (default stderr) when it is a terminal, else ``None``."""
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    return IngestBar(stream) if isatty is not None and isatty() else None
