"""`helpdesk report`: the analytics of a period (escalation/analytics.py) for a terminal, a
spreadsheet (CSV), a script (JSON) or a slide (PNG, drawn with matplotlib)."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from escalation import analytics
from escalation.analytics import EntryStats, Scope, Summary
from escalation.models import utc_now

SINCE = re.compile(r"^(\d+)\s*([hdw])$")
COLUMNS = (
    "conversations",
    "contained",
    "containment_rate",
    "verified_deflections",
    "verified_deflection_rate",
    "answered",
    "clarified",
    "declined",
    "escalations",
    "first_response_p50_s",
    "first_response_p90_s",
    "resolution_p50_s",
    "resolution_p90_s",
    "csat_average",
)


def parse_since(text: str, now: datetime, zone: tzinfo = UTC) -> datetime:
    """'7d', '24h', '2w' before ``now``, or an ISO date or moment (in ``zone`` unless it
    says its own offset: "2026-11-30" is that day's midnight where the report is read)."""
    match = SINCE.match(text.strip())
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        hours = {"h": 1, "d": 24, "w": 24 * 7}[unit]
        return now - timedelta(hours=amount * hours)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is neither a span such as 7d, 24h, 2w nor a date") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


@dataclass(frozen=True)
class Report:
    scope: Scope
    bucket: str
    summary: Summary
    series: list[tuple[datetime, Summary]]
    breakdown: list[tuple[str, Summary]]
    breakdown_by: str
    entries: list[EntryStats]
    zone: tzinfo = UTC

    @property
    def since(self) -> datetime:
        """The period's start on the report's clock."""
        return self.scope.since.astimezone(self.zone)

    @property
    def until(self) -> datetime:
        return self.scope.until.astimezone(self.zone)


def build(
    session: Session,
    *,
    since: datetime,
    until: datetime | None,
    bucket: str,
    by: str,
    zone: tzinfo = UTC,
) -> Report:
    """The period's figures; days and weeks are calendar ones of ``zone``, and every time
    is shown in it."""
    scope = Scope(since, until or utc_now())
    return Report(
        scope=scope,
        bucket=bucket,
        zone=zone,
        summary=analytics.summary(session, scope),
        series=[
            (start.astimezone(zone), figures)
            for start, figures in analytics.series(session, scope, bucket=bucket, zone=zone)
        ],
        breakdown=analytics.breakdown(session, scope, by=by),
        breakdown_by=by,
        entries=analytics.entries(session, scope),
    )


def row(summary: Summary) -> dict[str, Any]:
    """The summary as one flat row (CSV, table)."""
    return {
        "conversations": summary.conversations,
        "contained": summary.contained,
        "containment_rate": _ratio(summary.containment_rate),
        "verified_deflections": summary.verified_deflections,
        "verified_deflection_rate": _ratio(summary.verified_deflection_rate),
        "answered": summary.answered,
        "clarified": summary.clarified,
        "declined": summary.declined,
        "escalations": summary.escalations,
        "first_response_p50_s": summary.first_response.p50_seconds,
        "first_response_p90_s": summary.first_response.p90_seconds,
        "resolution_p50_s": summary.resolution.p50_seconds,
        "resolution_p90_s": summary.resolution.p90_seconds,
        "csat_average": summary.csat_average,
    }


def as_csv(report: Report) -> str:
    """One row per day or week, then one per language or channel, then the whole period."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["scope", "value", *COLUMNS])
    for start, summary in report.series:
        writer.writerow([report.bucket, start.isoformat(), *row(summary).values()])
    for value, summary in report.breakdown:
        writer.writerow([report.breakdown_by, value, *row(summary).values()])
    writer.writerow(["period", report.since.isoformat(), *row(report.summary).values()])
    return out.getvalue()


def as_json(report: Report) -> str:
    def summary(value: Summary) -> dict[str, Any]:
        return {
            **asdict(value),
            "containment_rate": value.containment_rate,
            "verified_deflection_rate": value.verified_deflection_rate,
        }

    document = {
        "since": report.since.isoformat(),
        "until": report.until.isoformat(),
        "summary": summary(report.summary),
        report.bucket + "s": [
            {"start": start.isoformat(), **summary(value)} for start, value in report.series
        ],
        "by_" + report.breakdown_by: {value: summary(item) for value, item in report.breakdown},
        "entries": [
            {**asdict(entry), "acceptance_rate": entry.acceptance_rate} for entry in report.entries
        ],
    }
    return json.dumps(document, indent=2)


def as_table(report: Report) -> str:
    """For a terminal: the period, then per language or channel, then the top entries."""
    s = report.summary
    lines = [
        f"{report.since:%Y-%m-%d %H:%M} – {report.until:%Y-%m-%d %H:%M} {report.zone}",
        f"  conversations {s.conversations}, contained {s.contained}"
        f" ({_percent(s.containment_rate)}), verified deflections {s.verified_deflections}"
        f" ({_percent(s.verified_deflection_rate)})",
        f"  FAQ: answered {s.answered}, clarified {s.clarified}, declined {s.declined};"
        f" rated helped {s.rated_helped}, not {s.rated_not_helped}",
        f"  escalations {s.escalations}: "
        + (
            ", ".join(f"{reason} {count}" for reason, count in s.escalation_reasons.items())
            or "none"
        ),
        f"  first response p50 {_span(s.first_response.p50_seconds)}, p90"
        f" {_span(s.first_response.p90_seconds)} (business time p50"
        f" {_span(s.first_response_business.p50_seconds)});"
        f" resolution p50 {_span(s.resolution.p50_seconds)}, p90 {_span(s.resolution.p90_seconds)}",
        f"  CSAT {s.csat_average if s.csat_average is not None else '–'} from {s.csat_count}"
        f" ratings: " + " ".join(f"{k}★×{v}" for k, v in s.csat_distribution.items()),
        f"by {report.breakdown_by}:",
        *(
            f"  {value:<10} {item.conversations:>6} conversations,"
            f" contained {_percent(item.containment_rate)},"
            f" verified {_percent(item.verified_deflection_rate)}"
            for value, item in report.breakdown
        ),
        "FAQ entries (answers, acceptance):",
        *(
            f"  {entry.entry_id:<32} {entry.answered:>6}  {_percent(entry.acceptance_rate)}"
            for entry in report.entries[:15]
        ),
    ]
    return "\n".join(lines) + "\n"


def as_png(report: Report, path: Path) -> None:
    """Contained and escalated conversations per day or week, with the containment and
    verified-deflection rates: a picture for a slide."""
    import matplotlib

    matplotlib.use("Agg")  # no display: a file
    import matplotlib.pyplot as plt

    starts = [start.replace(tzinfo=None) for start, _ in report.series]  # local wall clock
    contained = [summary.contained for _, summary in report.series]
    escalated = [summary.conversations - summary.contained for _, summary in report.series]
    figure, (volumes, rates) = plt.subplots(
        2, 1, figsize=(10, 6.5), sharex=True, gridspec_kw={"height_ratios": [3, 2]}
    )
    width = 5.6 if report.bucket == "week" else 0.8
    volumes.bar(starts, contained, width=width, align="edge", label="contained", color="#1f5fbf")
    volumes.bar(
        starts, escalated, width=width, align="edge", bottom=contained, label="escalated",
        color="#d97706",
    )  # fmt: skip
    volumes.set_ylabel("conversations")
    volumes.legend(loc="upper left")
    volumes.set_title(
        f"Helpdesk bot, {report.since:%d %b %Y} – {report.until:%d %b %Y}: "
        f"{report.summary.conversations} conversations, "
        f"{_percent(report.summary.containment_rate)} contained, "
        f"{_percent(report.summary.verified_deflection_rate)} verified deflection"
    )
    for label, values, style in (
        ("containment", [s.containment_rate for _, s in report.series], "-o"),
        ("verified deflection", [s.verified_deflection_rate for _, s in report.series], "--s"),
    ):
        middles = [start + timedelta(days=width / 2) for start in starts]  # under the bars
        percents = [v * 100 if v is not None else float("nan") for v in values]
        rates.plot(middles, percents, style, label=label)
    rates.set_ylabel("% of conversations")
    rates.set_ylim(0, 100)
    rates.legend(loc="lower left")
    rates.grid(alpha=0.3)
    figure.autofmt_xdate()
    figure.tight_layout()
    figure.savefig(path, dpi=150)
    plt.close(figure)


def _ratio(value: float | None) -> float | None:
    return round(value, 4) if value is not None else None


def _percent(value: float | None) -> str:
    return f"{value:.0%}" if value is not None else "–"


def _span(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes / 60:.1f} h"
