"""What ``trailpost validate-logs`` prints: the AWS CLI's lines, in its order and streams, plus a progress bar.

Rules (``awscli/customizations/cloudtrail/validation.py``, reference 4.6):

* stdout: ``Validating log files for trail <arn> between <start> and <end>`` and a blank line; with
  ``--verbose`` one ``Digest file\\ts3://...\\tvalid`` / ``Log file\\ts3://...\\tvalid`` line per
  valid file; then ``Results requested for A to B``, ``Results found for C to D:`` (or ``No digests
  found`` / ``No valid digests found in range``) and the ``x/y digest files valid[, z/y digest
  files INVALID]`` and ``log files`` ratios, each after a blank line;
* stderr: every INVALID line and every gap line followed by a blank line (a blank line first when
  the previous status line was a verbose one), exactly as the AWS CLI spaces them;
* trailpost's own additions (which events a bad log file held) follow the INVALID line on stderr,
  indented by two spaces, so a consumer of AWS's format can ignore them;
* the progress bar is drawn on stderr only when stderr is a terminal (``rich``).
"""

from __future__ import annotations

import sys
from datetime import datetime
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

DISPLAY = "%Y-%m-%dT%H:%M:%SZ"


def display(moment: datetime) -> str:
    return moment.strftime(DISPLAY)


class Report:
    """Counters and output of one validation run."""

    def __init__(self, verbose: bool, out: TextIO | None = None, err: TextIO | None = None, progress: bool = True):
        self.verbose = verbose
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.valid_digests = self.invalid_digests = 0
        self.valid_logs = self.invalid_logs = 0
        self.log_bytes = 0
        self.found_start: datetime | None = None
        self.found_end: datetime | None = None
        self._double_space = True
        console = Console(file=self.err)
        self._progress: Progress | None = None
        if progress and console.is_terminal:
            self._progress = Progress(
                TextColumn("[progress.description]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            )
        self._task: TaskID | None = None

    # -- progress -------------------------------------------------------------------------------

    def begin(self, digests: int) -> None:
        if self._progress is not None:
            self._progress.start()
            self._task = self._progress.add_task("digests", total=digests)

    def more_files(self, count: int) -> None:
        if self._progress is not None and self._task is not None:
            task = self._progress.tasks[0]
            self._progress.update(self._task, total=(task.total or 0) + count, description="digests + log files")

    def step(self) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task)

    def finish(self) -> None:
        if self._progress is not None:
            self._progress.stop()

    # -- AWS's lines ----------------------------------------------------------------------------

    def status(self, message: str, is_error: bool = False) -> None:
        if is_error:
            self.err.write(f"{message}\n\n" if self._double_space else f"\n{message}\n\n")
            self._double_space = True
        elif self.verbose:
            self._double_space = False
            self.out.write(f"{message}\n")
        self.err.flush()
        self.out.flush()

    def detail(self, lines: list[str]) -> None:
        """trailpost's additions under the INVALID line just written (stderr, indented)."""
        if lines:
            self.err.write("".join(f"  {line}\n" for line in lines) + "\n")

    def startup(self, trail_arn: str, start: datetime, end: datetime) -> None:
        self.out.write(f"Validating log files for trail {trail_arn} between {display(start)} and {display(end)}\n\n")

    def track(self, digest_start: datetime, digest_end: datetime, start: datetime, end: datetime) -> None:
        earliest = max(digest_start, start)
        if self.found_start is None or earliest < self.found_start:
            self.found_start = earliest
        latest = min(digest_end, end)
        if self.found_end is None or latest > self.found_end:
            self.found_end = latest

    def summary(self, start: datetime, end: datetime) -> None:
        if not self._double_space:
            self.out.write("\n")
        self.out.write(f"Results requested for {display(start)} to {display(end)}\n")
        if not self.valid_digests and not self.invalid_digests:
            self.out.write("No digests found\n")
            return
        if self.found_start is None or self.found_end is None:
            self.out.write("No valid digests found in range\n")
        else:
            self.out.write(f"Results found for {display(self.found_start)} to {display(self.found_end)}:\n")
        self._ratio(self.valid_digests, self.invalid_digests, "digest")
        self._ratio(self.valid_logs, self.invalid_logs, "log")
        self.out.write("\n")
        self.out.flush()

    def _ratio(self, valid: int, invalid: int, name: str) -> None:
        total = valid + invalid
        if total > 0:
            self.out.write(f"\n{valid}/{total} {name} files valid")
            if invalid > 0:
                self.out.write(f", {invalid}/{total} {name} files INVALID")

    @property
    def exit_code(self) -> int:
        return 1 if self.invalid_digests or self.invalid_logs else 0
