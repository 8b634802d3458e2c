"""The escalation ladder of an open finding, as pure logic.

A ladder is an ordered list of steps, each falling due a number of working
days relative to the finding's rectification deadline (a business date in
Asia/Shanghai, the last day on which the answer is on time):

* ``offset_working_days < 0``: that many working days *before* the deadline
  (``-3`` = :meth:`WorkingCalendar.add_working_days` ``(deadline, -3)``);
* ``offset_working_days > 0``: that many working days *after* the deadline
  (``+1`` = the first overdue working day);
* ``0``: the deadline date itself.

Offsets must strictly increase along the ladder, so the due dates never
decrease.  The scheduler's sweep calls :func:`due_steps` with the codes of
the steps already recorded for the finding; every step whose due date has
come and that is not yet done is returned, in ladder order, so a sweep after
downtime catches up every missed step exactly once (the caller records each
one with an atomic conditional update), and :func:`next_due_date` gives the
value to store in the finding's indexed ``next_step_due`` field.

Codes in ``done`` that the ladder does not know (a step removed from the
configuration) are ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Iterable, Mapping, Sequence

from inspect_api.workdays import DEFAULT_CALENDAR, WorkingCalendar

# Role keys a step may notify.
RECIPIENTS: dict[str, str] = {
    "institution": "被检查机构",
    "lead_inspector": "检查组组长",
    "county_office": "县级医养结合工作办公室",
    "department": "主管部门",
    "leadership_office": "领导小组办公室",
}

# A sanity bound on offsets: about one year of working days either way.
MAX_ABS_OFFSET = 260

_CODE_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_KNOWN_KEYS = frozenset(
    {"code", "offset_working_days", "recipients", "preselect_for_notice", "title"}
)


class LadderConfigError(ValueError):
    """The ladder configuration is invalid; the message is Chinese.

    ``code`` is a stable identifier, ``details`` says where (step index,
    field) so an admin page or the config loader can point at the culprit.
    """

    code = "LADDER_CONFIG_INVALID"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}


@dataclass(frozen=True)
class LadderStep:
    """One rung of the ladder."""

    code: str
    offset_working_days: int
    recipients: tuple[str, ...]
    title: str
    preselect_for_notice: bool = False

    def to_config(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "offset_working_days": self.offset_working_days,
            "recipients": list(self.recipients),
            "preselect_for_notice": self.preselect_for_notice,
            "title": self.title,
        }


def due_date(step: LadderStep, deadline: date, calendar: WorkingCalendar = DEFAULT_CALENDAR) -> date:
    """The business date on which ``step`` falls due for a finding with ``deadline``."""
    if step.offset_working_days == 0:
        return deadline
    return calendar.add_working_days(deadline, step.offset_working_days)


def _done_set(done: Iterable[str]) -> frozenset[str]:
    if isinstance(done, str):
        raise TypeError("done must be a collection of step codes, not a string")
    return frozenset(done)


def _fail(message: str, **details: Any) -> LadderConfigError:
    return LadderConfigError(message, details=details)


def _parse_step(i: int, raw: Any) -> LadderStep:
    n = i + 1
    if not isinstance(raw, Mapping):
        raise _fail(f"第 {n} 级升级步骤必须是一个表（键值对）", index=i)
    unknown = sorted(set(raw) - _KNOWN_KEYS)
    if unknown:
        raise _fail(f"第 {n} 级升级步骤含有未知字段：{', '.join(map(str, unknown))}",
                    index=i, fields=unknown)
    for key in ("code", "offset_working_days", "recipients", "title"):
        if key not in raw:
            raise _fail(f"第 {n} 级升级步骤缺少字段 {key}", index=i, field=key)

    code = raw["code"]
    if not isinstance(code, str) or not _CODE_RE.match(code):
        raise _fail(f"第 {n} 级升级步骤的代码无效（须为小写字母开头的字母、数字或下划线）",
                    index=i, field="code")

    offset = raw["offset_working_days"]
    if isinstance(offset, bool) or not isinstance(offset, int):
        raise _fail(f"升级步骤 {code} 的工作日偏移必须是整数", index=i, field="offset_working_days")
    if abs(offset) > MAX_ABS_OFFSET:
        raise _fail(f"升级步骤 {code} 的工作日偏移超出范围（±{MAX_ABS_OFFSET}）",
                    index=i, field="offset_working_days")

    recipients = raw["recipients"]
    if isinstance(recipients, str) or not isinstance(recipients, Sequence) or not recipients:
        raise _fail(f"升级步骤 {code} 的接收方必须是非空列表", index=i, field="recipients")
    for r in recipients:
        if r not in RECIPIENTS:
            raise _fail(f"升级步骤 {code} 的接收方 {r!r} 未知，可选：{', '.join(RECIPIENTS)}",
                        index=i, field="recipients")
    if len(set(recipients)) != len(recipients):
        raise _fail(f"升级步骤 {code} 的接收方有重复", index=i, field="recipients")

    preselect = raw.get("preselect_for_notice", False)
    if not isinstance(preselect, bool):
        raise _fail(f"升级步骤 {code} 的 preselect_for_notice 必须是布尔值",
                    index=i, field="preselect_for_notice")

    title = raw["title"]
    if not isinstance(title, str) or not title.strip():
        raise _fail(f"升级步骤 {code} 的标题不能为空", index=i, field="title")

    return LadderStep(code=code, offset_working_days=offset, recipients=tuple(recipients),
                      title=title.strip(), preselect_for_notice=preselect)


@dataclass(frozen=True)
class Ladder:
    """An ordered, validated list of :class:`LadderStep`."""

    steps: tuple[LadderStep, ...]
    _by_code: Mapping[str, LadderStep] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "steps", tuple(self.steps))
        self._validate()
        object.__setattr__(self, "_by_code", {s.code: s for s in self.steps})

    def _validate(self) -> None:
        if not self.steps:
            raise _fail("升级阶梯至少需要一级步骤")
        seen: set[str] = set()
        previous: LadderStep | None = None
        for i, step in enumerate(self.steps):
            if step.code in seen:
                raise _fail(f"升级步骤代码 {step.code} 重复", index=i, field="code")
            seen.add(step.code)
            if previous is not None and step.offset_working_days <= previous.offset_working_days:
                raise _fail(
                    f"升级步骤的工作日偏移必须严格递增：{step.code}（{step.offset_working_days}）"
                    f"不大于 {previous.code}（{previous.offset_working_days}）",
                    index=i, field="offset_working_days")
            for r in step.recipients:
                if r not in RECIPIENTS:
                    raise _fail(f"升级步骤 {step.code} 的接收方 {r!r} 未知", index=i,
                                field="recipients")
            previous = step

    @classmethod
    def from_config(cls, config: Iterable[Mapping[str, Any]]) -> "Ladder":
        """Build a ladder from a list of tables (e.g. a TOML array of tables).

        Each table has ``code``, ``offset_working_days``, ``recipients`` (role
        keys from :data:`RECIPIENTS`), ``title`` and optionally
        ``preselect_for_notice`` (default false).  Raises
        :class:`LadderConfigError` with a Chinese message on the first problem.
        """
        if isinstance(config, (str, bytes, Mapping)) or not isinstance(config, Iterable):
            raise _fail("升级阶梯配置必须是步骤列表")
        return cls(tuple(_parse_step(i, raw) for i, raw in enumerate(config)))

    def to_config(self) -> list[dict[str, Any]]:
        return [s.to_config() for s in self.steps]

    # -- lookups

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(s.code for s in self.steps)

    def step(self, code: str) -> LadderStep:
        try:
            return self._by_code[code]
        except KeyError:
            raise KeyError(f"unknown ladder step {code!r}") from None

    def __iter__(self):
        return iter(self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    # -- scheduling

    def schedule(self, deadline: date,
                 calendar: WorkingCalendar = DEFAULT_CALENDAR) -> list[tuple[LadderStep, date]]:
        """Every step with its due date, in ladder order (due dates non-decreasing)."""
        return [(s, due_date(s, deadline, calendar)) for s in self.steps]

    def due_steps(self, deadline: date, today: date, done: Iterable[str],
                  calendar: WorkingCalendar = DEFAULT_CALENDAR) -> list[LadderStep]:
        """Steps not in ``done`` whose due date is on or before ``today``, in order."""
        done_set = _done_set(done)
        return [s for s, due in self.schedule(deadline, calendar)
                if s.code not in done_set and due <= today]

    def next_due_date(self, deadline: date, done: Iterable[str],
                      calendar: WorkingCalendar = DEFAULT_CALENDAR) -> date | None:
        """The earliest due date of a step not yet done (None when all are done).

        It may lie in the past when a step is overdue and not yet recorded;
        a sweep selecting ``next_step_due <= today`` then picks it up.
        """
        done_set = _done_set(done)
        pending = [due for s, due in self.schedule(deadline, calendar) if s.code not in done_set]
        return min(pending) if pending else None


DEFAULT_LADDER = Ladder.from_config([
    {
        "code": "reminder",
        "offset_working_days": -3,
        "recipients": ["institution"],
        "preselect_for_notice": False,
        "title": "整改期限临近提醒",
    },
    {
        "code": "warning",
        "offset_working_days": 1,
        "recipients": ["institution", "lead_inspector", "county_office"],
        "preselect_for_notice": False,
        "title": "整改逾期警示",
    },
    {
        "code": "department",
        "offset_working_days": 5,
        "recipients": ["department", "county_office"],
        "preselect_for_notice": False,
        "title": "逾期未整改，升级至主管部门",
    },
    {
        "code": "office",
        "offset_working_days": 10,
        "recipients": ["leadership_office", "department", "county_office"],
        "preselect_for_notice": True,
        "title": "逾期未整改，升级至领导小组办公室并拟列入下期通报",
    },
])


def due_steps(deadline: date, today: date, done: Iterable[str],
              calendar: WorkingCalendar = DEFAULT_CALENDAR, *,
              ladder: Ladder = DEFAULT_LADDER) -> list[LadderStep]:
    """Module-level form of :meth:`Ladder.due_steps` (default ladder)."""
    return ladder.due_steps(deadline, today, done, calendar)


def next_due_date(deadline: date, done: Iterable[str],
                  calendar: WorkingCalendar = DEFAULT_CALENDAR, *,
                  ladder: Ladder = DEFAULT_LADDER) -> date | None:
    """Module-level form of :meth:`Ladder.next_due_date` (default ladder)."""
    return ladder.next_due_date(deadline, done, calendar)
