"""好差评 ratings imported from a file: stored exactly once by event_id, as the device API stores them; a bad
rating opens its case (差评工单), and the period's suspicion flags are scanned again."""

from datetime import UTC, date, datetime

from sqlalchemy import select

from ....extensions import db
from ....models import Channel, CodeSystem, PublicRating, Unit
from ....timefmt import CST
from ...ratings.cases import gets_a_case, open_cases_where
from ...ratings.flags import rescan_bursts
from ...ratings.hashing import content_hash
from ..cells import column_length
from ..reading import show
from ..report import file_error
from .base import Kind
from .rating_block import plain_rows, to_micros
from .rating_write import CASE_NO, DEFAULT, EVENT_ID, HASH, LEVEL, LINE, RatingWriter, among


class Ratings(Kind):
    """好差评 ratings: exactly once by event_id (origin "import"); a level 1-2 rating opens a case."""

    def prepare(self):
        self.counts = {"created": 0, "duplicates": 0, "cases": 0}
        try:
            self.code_system = CodeSystem(self.options.get("code_system") or "standard")
        except ValueError:
            file_error(
                f"unknown code system '{self.options.get('code_system')}' (standard or gbt39046)",
                "未知的等级编码方式（应为standard或gbt39046）",
            )
        self.units = self.code_map(Unit)
        self.inactive = set(db.session.execute(select(Unit.code).where(Unit.active.is_(False))).scalars())
        #: event_id -> (its content hash, line), for repeats within the file.
        self.seen = {}
        #: case_no -> event_id, for one rating per case within the file.
        self.cases = {}
        self.starts, self.ends = self.period.starts_on, self.period.ends_on
        #: The period's first and last day as days since 1970-01-01 (for `rating_block`).
        self.first_day = (self.starts - date(1970, 1, 1)).days
        self.last_day = (self.ends - date(1970, 1, 1)).days
        self.max = {
            c: column_length(PublicRating, c) for c in ("event_id", "case_no", "window", "service_item", "staff_code")
        }

    def check(self, row):
        """Check one rating; an event_id repeated within the file is a row error (whatever its content)."""
        fields = self._fields(row)  # the rows `check_block` did not find plainly valid
        if fields is None:
            return None
        event_id, unit_code, unit_id, raw, channel, rated_at, is_default, case_no, window, service_item = fields[:10]
        staff_code = fields[10]
        level = self.code_system.to_level(raw)
        digest = content_hash(
            event_id,
            unit_code,
            level,
            channel.value,
            rated_at,
            case_no=case_no,
            service_item=service_item,
            staff_code=staff_code,
            is_default=is_default,
            window=window,
        )
        before = self.seen.get(event_id)
        if before is not None:
            first_digest, first_line = before
            if first_digest == digest:
                # A row written twice is a clerk's slip (a copied block): named, so the file is put right.
                row.bad(
                    "event_id",
                    event_id,
                    f"event_id '{{v}}' repeats line {first_line} of this file; each rating once per file",
                    f"事件编号“{{v}}”与本文件第{first_line}行重复，同一评价在一个文件中只能出现一次",
                )
                return None
            row.bad(
                "event_id",
                event_id,
                "event_id '{v}' appears earlier in the file with different content",
                "事件编号“{v}”在文件前面已出现且内容不同",
            )
            return None
        self.seen[event_id] = (digest, row.line)
        if case_no is not None:
            other = self.cases.get(case_no)
            if other is not None:
                row.bad(
                    "case_no",
                    case_no,
                    f"case '{{v}}' already has a rating earlier in the file (event_id '{other}'); one rating per case",
                    f"办件编号“{{v}}”在文件前面已有评价（事件编号“{other}”），每个办件只能评价一次",
                )
                return None
            self.cases[case_no] = event_id
        return (
            row.line,
            event_id,
            unit_id,
            level,
            raw,
            channel.value,
            to_micros(rated_at),
            is_default,
            case_no,
            window,
            service_item,
            staff_code,
            digest,
        )

    def check_block(self, block):
        """The records of the block's plainly valid rows, checked a column at a time (`rating_block`)."""
        return plain_rows(self, block)

    def _fields(self, row):
        """The fields of one row through the cell getters (each bad cell recorded); None when any is bad."""
        event_id = row.text("event_id", True, self.max["event_id"])
        unit_code = row.text("unit_code", True)
        unit_id = None
        if unit_code is not None:
            unit_id = self.units.get(unit_code)
            if unit_id is None:
                row.bad("unit_code", unit_code, "unknown unit code '{v}'", "单位编码“{v}”不存在")
            elif unit_code in self.inactive:
                row.bad("unit_code", unit_code, "unit '{v}' is inactive", "单位“{v}”已停用")
        raw = row.integer("level", 1, 5, True, "'{v}' is not a level 1-5", "“{v}”不是1-5的等级")
        channel = row.choice("channel", Channel)
        rated_at = row.moment("rated_at")
        if rated_at is not None:
            local = rated_at.astimezone(CST).date()
            if not self.starts <= local <= self.ends:
                row.bad(
                    "rated_at",
                    row.raw("rated_at"),
                    f"'{{v}}' is outside period {self.period.name} ({self.starts} to {self.ends})",
                    f"“{{v}}”不在评价周期{self.period.name}内（{self.starts}至{self.ends}）",
                )
        is_default = row.flag("is_default")
        case_no = row.text("case_no", max_len=self.max["case_no"])
        window = row.text("window", max_len=self.max["window"])
        service_item = row.text("service_item", max_len=self.max["service_item"])
        staff_code = row.text("staff_code", max_len=self.max["staff_code"])
        if not row.ok:
            return None
        return (
            event_id,
            unit_code,
            unit_id,
            raw,
            channel,
            rated_at,
            is_default,
            case_no,
            window,
            service_item,
            staff_code,
        )

    def check_chunk(self, records):
        """Skip ratings stored before with this content; refuse conflicts, moves and taken case numbers."""
        stored = {
            r.event_id: r
            for r in db.session.execute(
                select(PublicRating.event_id, PublicRating.content_hash, PublicRating.period_id).where(
                    PublicRating.origin == "import",
                    among(PublicRating.event_id, [r[EVENT_ID] for r in records]),
                )
            )
        }
        if stored:
            kept = []
            for record in records:
                found = stored.get(record[EVENT_ID])
                if found is None:
                    kept.append(record)
                elif found.content_hash == record[HASH] and found.period_id == self.period.id:
                    self.counts["duplicates"] += 1
                elif found.period_id != self.period.id:
                    self._bad(
                        record,
                        "event_id",
                        record[EVENT_ID],
                        "event_id '{v}' was imported into another period before; a rating is never moved",
                        "事件编号“{v}”此前已导入其他评价周期，已导入的评价不会被移动",
                    )
                else:
                    self._bad(
                        record,
                        "event_id",
                        record[EVENT_ID],
                        "event_id '{v}' was imported before with different content (conflict); "
                        "a rating is never overwritten",
                        "事件编号“{v}”此前已导入且内容不同（冲突），已导入的评价不会被覆盖",
                    )
        else:
            kept = records
        with_case = [r[CASE_NO] for r in kept if r[CASE_NO] is not None]
        if with_case:
            taken = set(
                db.session.execute(
                    select(PublicRating.case_no).where(PublicRating.stage == "", among(PublicRating.case_no, with_case))
                ).scalars()
            )
            if taken:
                for record in kept:
                    if record[CASE_NO] in taken:
                        self._bad(
                            record,
                            "case_no",
                            record[CASE_NO],
                            "case '{v}' already has a rating; one rating per case",
                            "办件编号“{v}”已有评价，每个办件只能评价一次",
                        )
                kept = [r for r in kept if r[CASE_NO] not in taken]
        return kept

    def _bad(self, record, column, value, en, zh):
        shown = show(value)  # as Row.bad shows a value: cut to 80 characters
        self.errors.add(record[LINE], column, shown, en.replace("{v}", shown), zh.replace("{v}", shown))

    def write(self, spool, tick):
        """Insert the ratings in bulk, then open the cases (差评工单) of level 1-2 ratings, defaults aside.

        Rows are stored as the device API stores them: a default rating carries the "default" flag (not a
        suspicion: `flagged` stays false), and a rating with a case number is real-name (it can be called
        back). Cases are opened now, due the office's number of working days later (services.ratings.cases): a unit
        cannot call back before it learns of the rating.
        """
        now = datetime.now(UTC)
        table = PublicRating.__table__
        writer = RatingWriter(self.period.id, self.code_system, now, rows=spool.count)
        done = 0
        with writer:
            for chunk in spool.chunks():
                writer.insert(chunk)
                bad = [r[EVENT_ID] for r in chunk if gets_a_case(r[LEVEL], r[DEFAULT])]
                if bad:
                    # Every one of these ratings is new, so each gets its case.
                    self.counts["cases"] += open_cases_where(
                        (table.c.origin == "import") & among(table.c.event_id, bad), opened_at=now
                    )
                self.counts["created"] += len(chunk)
                done += len(chunk)
                tick(done)
        if self.counts["created"]:
            # The same suspicion flags as ratings posted by devices: odd hours as they were written, then the
            # bursts, which need the whole period. Flags, not drops.
            flagged = writer.flagged + rescan_bursts(self.period)
            if flagged:
                self.counts["flagged"] = flagged
