"""The report: the AWS CLI's spacing of status lines, and the progress bar only on a terminal."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from trailpost.integrity.report import Report


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal_only() -> None:
    err = Terminal()
    report = Report(False, out=io.StringIO(), err=err, progress=True)
    report.begin(2)
    report.more_files(3)
    for _ in range(5):
        report.step()
    report.finish()
    assert "digests + log files" in err.getvalue() and "5/5" in err.getvalue()
    plain = io.StringIO()
    quiet = Report(False, out=io.StringIO(), err=plain, progress=True)
    quiet.begin(2)
    quiet.step()
    quiet.finish()
    assert plain.getvalue() == ""  # a pipe or a file gets AWS's lines only


def test_error_lines_are_spaced_as_the_aws_cli_spaces_them() -> None:
    out, err = io.StringIO(), io.StringIO()
    report = Report(True, out=out, err=err, progress=False)
    report.status("Digest file\ts3://b/k1\tvalid")
    report.status("Digest file\ts3://b/k2\tINVALID: not found", True)
    report.status("Digest file\ts3://b/k3\tINVALID: not found", True)
    assert (
        err.getvalue()
        == "\nDigest file\ts3://b/k2\tINVALID: not found\n\nDigest file\ts3://b/k3\tINVALID: not found\n\n"
    )
    report.invalid_digests, report.valid_digests = 2, 1
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    report.track(moment, moment, moment, moment)
    report.summary(moment, moment)
    assert out.getvalue().endswith(
        "Results requested for 2026-01-01T00:00:00Z to 2026-01-01T00:00:00Z\n"
        "Results found for 2026-01-01T00:00:00Z to 2026-01-01T00:00:00Z:\n\n"
        "1/3 digest files valid, 2/3 digest files INVALID\n"
    )
    assert report.exit_code == 1
