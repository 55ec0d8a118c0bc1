"""Metric pages: the overview of every group, one group's charts and tables, staff performance
and the commission ladder. Charts first; every chart has its table beside it."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from care.selectors import overview_counts
from communities.models import Community
from core.forms import flash_errors
from core.views import ServiceActionView
from tenancy.mixins import OrgViewMixin
from tenancy.permissions import can, can_anywhere

from . import exports, hooks, reactivation, selectors, staff
from .charts import chart_json, community_charts, sparkline_points
from .windows import PRESETS, last_days, parse_window


class WindowMixin:
    def window(self, request):
        """The requested window, or the last 30 days with the reason shown when it is bad."""
        try:
            return parse_window(self.organization, request.GET)
        except ValidationError as exc:
            flash_errors(request, exc)
            return last_days(self.organization, 30)

    def window_context(self, request, window) -> dict:
        return {
            "window": window,
            "presets": PRESETS,
            "custom": bool(request.GET.get("start") or request.GET.get("end")),
            "definitions": selectors.definitions(),
            "query": request.GET.urlencode(),
        }


class OverviewPage(WindowMixin, OrgViewMixin, View):
    capability_anywhere = "metrics.view"

    def get(self, request, org_slug):
        window = self.window(request)
        sort = request.GET.get("sort", "-members")
        data = selectors.overview(self.actor, window, sort)
        for row in data["rows"]:
            row["sparkline"] = sparkline_points(row["activity_series"])
        context = {
            **self.window_context(request, window),
            "data": data,
            "sort": sort,
            "columns": [
                ("name", _("Group")),
                ("members", _("Members")),
                ("activity", _("Activity rate")),
                ("conversion", _("Conversion rate")),
                ("repurchase", _("Repurchase rate")),
            ],
            "may_export": can(self.actor, "metrics.export"),
            "may_staff": can(self.actor, "metrics.revenue"),
            "care_counts": _care_counts(self.actor),
        }
        for panel in hooks.overview_panels(actor=self.actor):
            context.update(panel)
        template = (
            "metrics/partials/overview_table.html" if request.htmx else "metrics/overview.html"
        )
        return render(request, template, context)


def _care_counts(actor):
    """The member-care counts the org overview shows (care.selectors), for those who see care."""
    return overview_counts(actor) if can_anywhere(actor, "care.view") else None


class OverviewExport(WindowMixin, OrgViewMixin, View):
    capability_anywhere = "metrics.export"

    def get(self, request, org_slug):
        data = selectors.overview(
            self.actor, self.window(request), request.GET.get("sort", "-members")
        )
        return exports.csv_response("metrics-overview.csv", *exports.overview_csv(data))


class CommunityMixin:
    community_capability = "metrics.view"
    visibility_capability = "metrics.view"

    def community(self, pk) -> Community:
        try:
            return selectors.metric_communities(self.actor).get(pk=pk)
        except (Community.DoesNotExist, ValueError, TypeError):
            raise Http404 from None


class CommunityPage(CommunityMixin, WindowMixin, OrgViewMixin, View):
    def get(self, request, org_slug, pk):
        community = self.community(pk)
        window = self.window(request)
        report = selectors.community_report(self.actor, community, window)
        charts = community_charts(report)
        for chart in charts:
            chart["json"] = chart_json(chart)
        context = {
            **self.window_context(request, window),
            "report": report,
            "charts": charts,
            "hours": range(24),
            "weekday_names": [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")],
            "may_export": can(self.actor, "metrics.export", community),
        }
        for panel in hooks.community_panels(actor=self.actor, community=community):
            context.update(panel)
        return render(request, "metrics/community.html", context)


class CommunityTableExport(CommunityMixin, WindowMixin, OrgViewMixin, View):
    community_capability = "metrics.export"

    def get(self, request, org_slug, pk, table):
        if table not in exports.TABLES:
            raise Http404
        community = self.community(pk)
        if not can(self.actor, "metrics.export", community):
            raise PermissionDenied
        report = selectors.community_report(self.actor, community, self.window(request))
        header, rows = exports.community_tables(report)[table]
        return exports.csv_response(f"metrics-{community.pk}-{table}.csv", header, rows)


class ReactivationPage(OrgViewMixin, View):
    """Reminded vs held out: does the dormant wake-up bring members back? Every group, or one
    (`pk`; the form's `?group=` leads there); `?days=7` shows the 7-day tables
    (metrics/reactivation.py)."""

    capability_anywhere = "metrics.view"

    def get(self, request, org_slug, pk=None):
        communities = list(selectors.metric_communities(self.actor).order_by("name"))
        days = 7 if request.GET.get("days") == "7" else 30
        chosen = request.GET.get("group", "")
        if pk is None and chosen:
            url = reverse("metrics-reactivation-group", args=[org_slug, _pk(chosen)])
            return redirect(f"{url}?days={days}")
        group = None
        if pk is not None:
            group = next((c for c in communities if c.pk == pk), None)
            if group is None:
                raise Http404
        data = reactivation.report(self.actor, communities, group=group)
        for row in [*data["by_month"], *data["by_group"]]:
            row["c"] = row["windows"][days]
        context = {
            "data": data,
            "days": days,
            "group": group,
            "communities": communities,
            "cards": [(n, data["overall"][n]) for n in reactivation.WINDOWS],
            "may_settings": can(self.actor, "org.manage"),
        }
        return render(request, "metrics/reactivation.html", context)


def _pk(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 18:
        raise Http404
    return int(raw)


class StaffPage(OrgViewMixin, View):
    capability = "metrics.revenue"

    def get(self, request, org_slug):
        try:
            month = staff.parse_month(self.organization, request.GET.get("month"))
        except ValidationError as exc:
            flash_errors(request, exc)
            month = staff.parse_month(self.organization, None)
        context = {
            "data": staff.staff_performance(self.organization, month),
            "may_export": can(self.actor, "metrics.export"),
            "may_ladder": can(self.actor, "org.manage"),
        }
        return render(request, "metrics/staff.html", context)


class StaffExport(OrgViewMixin, View):
    capability = "metrics.export"

    def get(self, request, org_slug):
        if not can(self.actor, "metrics.revenue"):
            raise PermissionDenied
        try:
            month = staff.parse_month(self.organization, request.GET.get("month"))
        except ValidationError:
            month = staff.parse_month(self.organization, None)
        data = staff.staff_performance(self.organization, month)
        return exports.csv_response(f"staff-{month:%Y-%m}.csv", *exports.staff_csv(data))


class LadderPage(OrgViewMixin, ServiceActionView):
    """The commission ladder: up to five steps, each "from N orders, X percent"."""

    capability = "org.manage"
    ROWS = 5
    success_message = gettext_lazy("Saved.")
    success_url = "metrics-ladder"
    success_url_kwargs = ("org_slug",)

    def get(self, request, org_slug):
        steps = staff.ladder(self.organization)
        rows = [(s.min_orders, s.rate_percent) for s in steps]
        rows += [("", "")] * (self.ROWS - len(rows))
        return render(request, "metrics/ladder.html", {"rows": rows, "errors": []})

    def _posted(self):
        """The rows as typed: (minimum orders, rate percent) strings."""
        minimums = self.request.POST.getlist("min_orders")[: self.ROWS]
        rates = self.request.POST.getlist("rate_percent")[: self.ROWS]
        return list(zip(minimums, rates, strict=False))

    def perform(self, form):
        steps, errors = [], []
        for raw_min, raw_rate in self._posted():
            if not str(raw_min).strip() and not str(raw_rate).strip():
                continue
            try:
                steps.append((int(raw_min), Decimal(str(raw_rate).strip())))
            except (ValueError, InvalidOperation):
                errors.append(_("Enter whole orders and a percent, e.g. 10 and 10.5."))
        if errors:
            raise ValidationError(errors)
        staff.ladder_set(actor=self.actor, steps=steps)

    def service_failed(self, exc, form):
        """The ladder as typed, with every error above it."""
        rows = self._posted()
        rows += [("", "")] * (self.ROWS - len(rows))
        context = {"rows": rows, "errors": exc.messages}
        return render(self.request, "metrics/ladder.html", context, status=400)
