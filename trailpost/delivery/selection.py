"""Which stored events a trail's selectors take, decided from the ``events`` table's columns when they can be.

Delivery reads every event of the trail's account. Parsing each record (``orjson.loads``) only so
that ``selectors.selects`` can look at a few top-level fields costs more than the rest of the
per-event work, and the ``events`` table already keeps those fields as columns, written from the
record by the event store: ``event_source`` = ``eventSource``, ``event_name`` = ``eventName``,
``region`` = ``awsRegion``, ``read_only`` = 1 when ``readOnly`` is true, ``category`` =
``eventCategory`` (``Management`` when absent). Every record builder (``audit.record``,
``audit.signin``) writes ``readOnly`` as a JSON boolean and ``eventCategory`` as a non-empty
string, so the columns carry exactly what ``selects`` reads from the record for those fields.

A ``Selection`` decides per distinct column key ``(event_source, event_name, read_only, category,
region)``, once, whether the trail takes such events: yes, no, or *unknown* when the selectors need
a field the columns lack (``resources``, ``userIdentity.arn``, ``errorCode``, the host header of an
STS call in us-east-1, ...). Unknown events are parsed and given to ``selects``, as every event was
before. The verdicts are computed by ``selects`` itself, on a record made of the column fields only
and a trail holding one selector (or the column fields of one) at a time, so the semantics stay
``selectors``' by construction:

* ``include_global_service_events`` false: IAM, CloudFront, Route 53 are global by their source
  (not taken); STS in us-east-1 depends on its host header (unknown, unless the selectors already
  say no);
* no selectors: management events;
* basic selectors (OR): for a non-data event ``selects`` reads only ``readOnly``,
  ``eventCategory`` and ``eventSource``: decided; a data event is unknown (its ``resources``
  decide) unless no selector has data resources;
* advanced selectors (OR of AND): a selector's field selectors on column fields (``eventCategory``,
  ``eventSource``, ``eventName``, ``readOnly``) are evaluated together; when they fail, the selector
  fails whatever its other fields say; when they pass and it has no other field, it matches; else
  unknown. The trail takes the event when a selector matches, not when none can, else unknown.

The column verdicts are used only with ``selectors.selects`` itself (what the worker passes); with
any other ``selects`` callable every record is parsed (the *parsed path*, which the tests compare
the fast path against).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from trailpost.delivery.reader import CATEGORY, EVENT_NAME, EVENT_SOURCE, READ_ONLY, RECORD, REGION, Row

Selects = Callable[[dict[str, Any], dict[str, Any]], bool]
Key = tuple[str, str, int, str, str]  # event_source, event_name, read_only, category, region
COLUMN_FIELDS = frozenset({"eventCategory", "eventSource", "eventName", "readOnly"})
MANAGEMENT, DATA = "Management", "Data"
_UNSEEN = object()


def _standard_selectors(selects: Selects) -> Any:
    """The ``selectors`` module when ``selects`` is its ``selects``, else None (imported lazily: the
    worker imports the CloudTrail service only when it runs, see ``worker._selectors``)."""
    if getattr(selects, "__module__", None) != "trailpost.services.cloudtrail.selectors":
        return None
    from trailpost.services.cloudtrail import selectors

    return selectors if selects is selectors.selects else None


class Selection:
    """A trail's selectors applied to scanned rows (``reader.scan``); ``takes(row)`` says whether
    the trail takes the row's event."""

    def __init__(self, trail: dict[str, Any], selects: Selects) -> None:
        self.trail = trail
        self.selects = selects
        self.parsed = 0  # records parsed (the verdict needed a field the columns lack)
        self.verdicts: dict[Key, bool | None] = {}
        self._selectors = _standard_selectors(selects)
        self.takes: Callable[[Row], bool]
        self.columns = True  # whether ``takes`` needs the scan's selector columns
        if self._selectors is None:
            self.takes, self.columns = self._parse, False
        elif (
            trail.get("advanced_event_selectors") is None
            and trail.get("event_selectors") is None
            and trail.get("include_global_service_events", True)
        ):
            self.takes, self.columns = self._management, False
        else:
            self.takes = self._columns

    def _parse(self, row: Row) -> bool:
        self.parsed += 1
        return self.selects(self.trail, orjson.loads(row[RECORD]))

    def _management(self, row: Row) -> bool:
        return row[CATEGORY] == MANAGEMENT  # no selectors: every management event, no data event

    def _columns(self, row: Row) -> bool:
        key = (row[EVENT_SOURCE], row[EVENT_NAME], row[READ_ONLY], row[CATEGORY], row[REGION])
        verdict = self.verdicts.get(key, _UNSEEN)
        if verdict is _UNSEEN:
            verdict = self.verdicts[key] = self.verdict(key)
        if verdict is None:
            return self._parse(row)
        return bool(verdict)

    def verdict(self, key: Key) -> bool | None:
        """Whether the trail takes events with these columns: True, False or None (unknown)."""
        selectors = self._selectors
        assert selectors is not None
        source, name, read_only, category, region = key
        record = {
            "eventSource": source,
            "eventName": name,
            "awsRegion": region,
            "readOnly": bool(read_only),
            "eventCategory": category,
        }
        global_unknown = False
        if not self.trail.get("include_global_service_events", True):
            if source == selectors.STS and region == selectors.GLOBAL_REGION:
                global_unknown = True  # global unless called through the regional endpoint (tlsDetails)
            elif selectors.is_global_service_event(record):
                return False
        match = self._match(record)
        if match is False:
            return False
        return None if global_unknown else match

    def _match(self, record: dict[str, Any]) -> bool | None:
        """The selectors (without the global service events rule) on a record of column fields."""
        selects = self._selectors.selects
        advanced = self.trail.get("advanced_event_selectors")
        if advanced is not None:
            result: bool | None = False
            for selector in advanced:
                fields = selector.get("FieldSelectors") or []
                columns = [field for field in fields if field.get("Field") in COLUMN_FIELDS]
                if not selects({"advanced_event_selectors": [{"FieldSelectors": columns}]}, record):
                    continue
                if len(columns) == len(fields):
                    return True
                result = None
            return result
        basic = self.trail.get("event_selectors")
        if basic is None or record["eventCategory"] != DATA:
            return bool(selects({"event_selectors": basic}, record))
        if not any(selector.get("DataResources") for selector in basic):
            return False
        return None
