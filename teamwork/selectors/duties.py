"""Each person's week against the duties of their roles, measured from what Qunyun records.

A line is (person, group, duty): a duty of a role applies in every group where the person
held that role during the week (or only in the duty's own group). What counts, per measure
(docs/teamwork.md says the same for operators):

- posts: posts of the content calendar the person created that were sent in the group;
- topics: the same, discussion topics only (the topic officer's interactions);
- cases: member-care cases of the group in which the person took a step (distinct cases);
- replies: replies the bot sent to members from member care on the person's behalf;
- follow_ups: after-sales follow-ups in the group the person finished as done;
- greetings (for the group, not one person): of the newcomers who joined in the period, the
  share greeted within the duty's hours: a staff mark ("introduced", "coupon sent") or the
  newcomer's own first message. A newcomer still inside the hours is not counted yet, nor one
  who left within them;
- manual: the ticks the person made by hand.

A weekly duty compares the week's figure with its quota; a daily one each day's, and the line
tells how many of the week's days so far met it. Every query covers all lines at once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from care.models import CaseEvent, CaseEventKind, FollowUpStatus, FollowUpTask
from communities.models import ContentType, PostStatus, ScheduledPost, StaffAssignment
from members.models import Membership, MembershipStatus
from metrics.days import local_day

from ..models import Duty, DutyMeasure, DutyPeriod, DutyTick
from ..weeks import Week

WEEKDAYS = [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")]


@dataclass
class Line:
    duty: Duty
    community: object
    user_id: int
    # per day of the week: a count, or for greetings (due, greeted in time); None: not yet
    days: list = field(default_factory=list)
    value: float | int | None = None  # the week's figure (greetings: a percentage)
    days_met: int = 0
    days_counted: int = 0
    # met; open (still to do); on_track (a daily duty met every day so far); missed; idle
    # (greetings with nobody new to greet)
    status: str = "open"

    @property
    def is_daily(self) -> bool:
        return self.duty.period == DutyPeriod.DAY

    @property
    def is_manual(self) -> bool:
        return self.duty.measure == DutyMeasure.MANUAL

    @property
    def day_cells(self) -> list[dict]:
        """Each day of the week as shown: its figure (greetings: a percentage, None with no
        newcomers), whether it met the quota (None: a day still to come)."""
        cells = []
        for label, value in zip(WEEKDAYS, self.days, strict=True):
            if value is None:
                cells.append({"label": label, "value": None, "met": None})
            elif self.duty.is_share:
                cells.append(
                    {"label": label, "value": _share(*value), "met": _reached(self.duty, value)}
                )
            else:
                cells.append({"label": label, "value": value, "met": _reached(self.duty, value)})
        return cells


@dataclass
class PersonWeek:
    user: object
    lines: list[Line]

    @property
    def met(self) -> int:
        return sum(1 for line in self.lines if line.status in ("met", "idle", "on_track"))


def _share(due, done):
    return None if not due else done * 100 / due


def week_duties(org, week: Week) -> list[Duty]:
    """The duties in force at some time during the week."""
    start, end = week.bounds(org)
    return list(
        Duty.objects.for_org(org)
        .filter(created_at__lt=end)
        .filter(Q(retired_at=None) | Q(retired_at__gte=start))
        .select_related("community")
        .order_by("role", "pk")
    )


def _assignments(org, week: Week, duties):
    """The staff assignments held at some time during the week in a role that has duties."""
    start, end = week.bounds(org)
    return (
        StaffAssignment.objects.for_org(org)
        .filter(assigned_at__lt=end, role__in={d.role for d in duties})
        .filter(Q(ended_at=None) | Q(ended_at__gte=start))
        .filter(Q(community__archived_at=None) | Q(community__archived_at__gte=start))
    )


def week_people(org, week: Week) -> list[int]:
    """Ids of the people with duties in the week, in the board's order (for paging it)."""
    duties = week_duties(org, week)
    if not duties:
        return []
    rows = (
        _assignments(org, week, duties)
        .values_list("user_id", "user__full_name", "user__email")
        .distinct()
        .order_by()
    )
    return [pk for pk, name, email in sorted(rows, key=lambda r: (r[1] or r[2], r[0]))]


def week_board(org, week: Week, *, user_ids=None, now=None) -> list[PersonWeek]:
    """Everyone's week (or only `user_ids`'), sorted by name."""
    now = now or timezone.now()
    today = local_day(org, now)
    duties = week_duties(org, week)
    if not duties:
        return []
    start, end = week.bounds(org)
    assignments = (
        _assignments(org, week, duties)
        .select_related("user", "community")
        .order_by("community__name", "pk")
    )
    if user_ids is not None:
        assignments = assignments.filter(user_id__in=list(user_ids))
    lines: dict[tuple, Line] = {}
    users = {}
    for a in assignments:
        for duty in duties:
            if duty.role != a.role or duty.community_id not in (None, a.community_id):
                continue
            key = (a.user_id, a.community_id, duty.pk)
            if key not in lines:
                lines[key] = Line(duty=duty, community=a.community, user_id=a.user_id)
                users[a.user_id] = a.user
    if not lines:
        return []
    counts = _Counts(org, week, list(lines.values()), start, end, now)
    for line in lines.values():
        _measure(line, counts, week, today)
    people = defaultdict(list)
    for line in lines.values():
        people[line.user_id].append(line)
    board = [PersonWeek(user=users[u], lines=ls) for u, ls in people.items()]
    board.sort(key=lambda p: (p.user.full_name or p.user.email, p.user.pk))
    return board


class _Counts:
    """Every measure's numbers for the lines' people and groups, one query each."""

    def __init__(self, org, week, lines, start, end, now):
        self.org, self.week, self.start, self.end, self.now = org, week, start, end, now
        measures = {line.duty.measure for line in lines}
        self.user_ids = sorted({line.user_id for line in lines})
        self.community_ids = sorted({line.community.pk for line in lines})
        # (what, user id, community id) -> {day: set of things done}; `what` is a measure, or
        # ("manual", duty id) for ticks
        self.done: dict = defaultdict(lambda: defaultdict(set))
        self.greetings: dict = {}  # (community id, hours) -> {day: [due, greeted in time]}
        if measures & {DutyMeasure.POSTS, DutyMeasure.TOPICS}:
            self._posts()
        if measures & {DutyMeasure.CASES, DutyMeasure.REPLIES}:
            self._care_events()
        if DutyMeasure.FOLLOW_UPS in measures:
            self._follow_ups()
        if DutyMeasure.MANUAL in measures:
            self._ticks({line.duty.pk for line in lines if line.is_manual})
        hours = {line.duty.within_hours for line in lines if line.duty.is_share}
        if hours:
            self._greetings(hours)

    def day(self, instant) -> date:
        return local_day(self.org, instant)

    def _posts(self):
        rows = ScheduledPost.objects.for_org(self.org).filter(
            community_id__in=self.community_ids,
            created_by_id__in=self.user_ids,
            status=PostStatus.SENT,
            sent_at__gte=self.start,
            sent_at__lt=self.end,
        )
        for pk, community_id, user_id, kind, sent_at in rows.values_list(
            "pk", "community_id", "created_by_id", "content_type", "sent_at"
        ):
            day = self.day(sent_at)
            self.done[(DutyMeasure.POSTS, user_id, community_id)][day].add(pk)
            if kind == ContentType.DISCUSSION:
                self.done[(DutyMeasure.TOPICS, user_id, community_id)][day].add(pk)

    def _care_events(self):
        rows = CaseEvent.objects.for_org(self.org).filter(
            kind__in=[CaseEventKind.STEP, CaseEventKind.REPLY],
            actor_user_id__in=self.user_ids,
            case__community_id__in=self.community_ids,
            created_at__gte=self.start,
            created_at__lt=self.end,
        )
        for pk, kind, user_id, community_id, case_id, at in rows.values_list(
            "pk", "kind", "actor_user_id", "case__community_id", "case_id", "created_at"
        ):
            if kind == CaseEventKind.REPLY:
                self.done[(DutyMeasure.REPLIES, user_id, community_id)][self.day(at)].add(pk)
            else:  # a case counts once however many steps it took (once a day, once a week)
                self.done[(DutyMeasure.CASES, user_id, community_id)][self.day(at)].add(case_id)

    def _follow_ups(self):
        from tenancy.models import User

        by_email = dict(
            User.objects.filter(pk__in=self.user_ids).values_list("email", "pk").order_by()
        )
        rows = FollowUpTask.objects.for_org(self.org).filter(
            status=FollowUpStatus.DONE,
            community_id__in=self.community_ids,
            done_by_label__in=list(by_email),
            done_at__gte=self.start,
            done_at__lt=self.end,
        )
        for pk, community_id, label, done_at in rows.values_list(
            "pk", "community_id", "done_by_label", "done_at"
        ):
            key = (DutyMeasure.FOLLOW_UPS, by_email[label], community_id)
            self.done[key][self.day(done_at)].add(pk)

    def _ticks(self, duty_ids):
        rows = DutyTick.objects.for_org(self.org).filter(
            duty_id__in=duty_ids,
            undone_at=None,
            day__gte=self.week.start,
            day__lte=self.week.end,
        )
        for pk, duty_id, user_id, community_id, day, n in rows.values_list(
            "pk", "duty_id", "user_id", "community_id", "day", "count"
        ):
            # a tick of n times counts n: (tick, 0), (tick, 1), …
            self.done[(("manual", duty_id), user_id, community_id)][day].update(
                (pk, i) for i in range(n)
            )

    def _greetings(self, hours_set):
        rows = list(
            Membership.objects.for_org(self.org)
            .filter(
                community_id__in=self.community_ids,
                joined_at__gte=self.start,
                joined_at__lt=self.end,
            )
            .values_list(
                "community_id",
                "joined_at",
                "introduced_at",
                "coupon_issued_at",
                "left_at",
                "status",
            )
        )
        for hours in hours_set:
            window = timedelta(hours=hours)
            for community_id, joined, introduced, coupon, left, status in rows:
                counts = self.greetings.setdefault((community_id, hours), {})
                day = counts.setdefault(self.day(joined), [0, 0])
                deadline = joined + window
                greeted = min(filter(None, [introduced, coupon]), default=None)
                if greeted is not None and greeted <= deadline:
                    day[0] += 1
                    day[1] += 1
                elif left is not None and left <= deadline:
                    continue  # gone before anyone could greet them
                elif status == MembershipStatus.REMOVED:
                    continue  # turned away at the door (entry rules, block list)
                elif deadline > self.now:
                    continue  # there is still time
                else:
                    day[0] += 1

    def per_day(self, line) -> dict:
        """{day: count} (greetings: {day: (due, in time)}) for one line."""
        duty = line.duty
        if duty.is_share:
            found = self.greetings.get((line.community.pk, duty.within_hours), {})
            return {day: tuple(v) for day, v in found.items()}
        what = ("manual", duty.pk) if line.is_manual else duty.measure
        return self.done.get((what, line.user_id, line.community.pk), {})

    def week_total(self, line):
        """The week's count (distinct things: a case stepped on two days counts once), or
        (due, in time) for greetings."""
        found = self.per_day(line)
        if line.duty.is_share:
            return (sum(v[0] for v in found.values()), sum(v[1] for v in found.values()))
        return len(set().union(*found.values())) if found else 0


def _measure(line: Line, counts: _Counts, week: Week, today: date) -> None:
    duty = line.duty
    found = counts.per_day(line)
    share = duty.is_share
    line.days = []
    for day in week.days:
        if day > today:
            line.days.append(None)
        elif share:
            line.days.append(found.get(day, (0, 0)))
        else:
            line.days.append(len(found.get(day, ())))
    week_over = today > week.end
    if line.is_daily:
        complete = [d for d in week.days if d < today]
        line.days_counted = sum(1 for d in week.days if d <= today)
        met = [_reached(duty, v) for v in line.days if v is not None]
        line.days_met = sum(met)
        missed_complete = any(
            not _reached(duty, v)
            for d, v in zip(week.days, line.days, strict=True)
            if d in complete
        )
        if missed_complete:
            line.status = "missed"
        elif week_over:
            line.status = "met"
        else:  # every day so far met, today included: on track; today still to do: open
            line.status = "on_track" if line.days_met == line.days_counted else "open"
        total = counts.week_total(line)
        line.value = _share(*total) if share else total
        return
    total = counts.week_total(line)
    line.value = _share(*total) if share else total
    if share and not total[0]:
        line.status = "idle"  # nobody new to greet
    elif _reached(duty, total):
        line.status = "met"
    else:
        line.status = "missed" if week_over else "open"


def _reached(duty: Duty, value) -> bool:
    if duty.is_share:
        due, done = value
        return not due or done * 100 >= duty.quota * due
    return value >= duty.quota
