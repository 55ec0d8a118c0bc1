"""Dashboard pages: polls and surveys (list, new, one with its live results, close) and the
suggestion box (ideas and replies)."""

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from communities.selectors import communities_where
from core.views import ServiceActionView
from tenancy.mixins import OrgViewMixin
from tenancy.permissions import can

from . import services
from .forms import PollForm, ReplyForm
from .models import PollKind, Suggestion, SuggestionStatus
from .selectors import poll_for, targets_of, visible_polls

PAGE = 30


class PollListView(OrgViewMixin, View):
    capability_anywhere = "engagement.view"

    def get(self, request, org_slug):
        polls = (
            visible_polls(self.actor)
            .annotate(answers=Count("responses", distinct=True))
            .order_by("-created_at", "-pk")
        )
        page = Paginator(polls, PAGE).get_page(request.GET.get("page"))
        context = {
            "page": page,
            "now": timezone.now(),
            "may_create": communities_where(self.actor, "engagement.manage").exists(),
            "may_see_ideas": can(self.actor, "engagement.view"),
        }
        return render(request, "engagement/poll_list.html", context)


class PollCreateView(OrgViewMixin, ServiceActionView):
    capability_anywhere = "engagement.manage"

    def _form(self, data=None):
        groups = communities_where(self.actor, "engagement.manage").filter(status="active")
        now = timezone.now().astimezone(self.organization.tzinfo)
        initial = {"closes_at": (now + timezone.timedelta(days=1)).strftime("%Y-%m-%dT%H:00")}
        return PollForm(data, initial=initial, communities=groups.order_by("name"))

    def get(self, request, org_slug, form=None, status=200):
        return render(
            request, "engagement/poll_create.html", {"form": form or self._form()}, status=status
        )

    def get_form(self):
        return self._form(self.request.POST)

    def perform(self, form):
        data = form.cleaned_data
        return services.poll_create(
            actor=self.actor,
            kind=data["kind"],
            title=data["title"],
            communities=list(data["communities"]),
            closes_at=data["closes_at"],
            questions=form.questions(),
            group_replies=data.get("group_replies", False),
        )

    def get_success_message(self, poll):
        if poll.kind == PollKind.SURVEY:
            return _("Survey posted: the bot posts it in its groups.")
        return _("Poll posted: the bot posts it in its groups.")

    def success_response(self, poll):
        return redirect("poll", org_slug=self.kwargs["org_slug"], pk=poll.pk)


class PollDetailView(OrgViewMixin, View):
    """A poll and its results; the results partial refreshes itself while it is open."""

    capability_anywhere = "engagement.view"

    def get(self, request, org_slug, pk):
        poll = poll_for(self.actor, pk)
        context = {
            "poll": poll,
            "is_open": poll.is_open(),
            "results": services.tally(poll),
            "targets": targets_of(poll),
            "page_url": services.poll_page_url(poll),
            "can_manage": services.can_manage_poll(self.actor, poll),
        }
        template = "engagement/partials/results.html" if request.htmx else "engagement/poll.html"
        return render(request, template, context)


class PollCloseView(OrgViewMixin, ServiceActionView):
    capability_anywhere = "engagement.manage"
    success_message = gettext_lazy("Closed: the results are posted in its groups.")
    success_url = "poll"
    success_url_kwargs = ("org_slug", "pk")

    def get_object(self):
        poll = poll_for(self.actor, self.kwargs["pk"])
        if not services.can_manage_poll(self.actor, poll):
            raise PermissionDenied
        return poll

    def perform(self, form):
        return services.poll_close(actor=self.actor, poll=self.object)


class SuggestionListView(OrgViewMixin, View):
    """The organization's suggestion box: members' ideas, newest first, with staff's replies."""

    capability = "engagement.view"
    FILTERS = ("new", "replied", "all")

    def get(self, request, org_slug):
        shown = request.GET.get("show")
        if shown not in self.FILTERS:
            shown = "new"
        ideas = (
            Suggestion.objects.for_org(self.organization)
            .select_related("member", "community")
            .prefetch_related("replies")
            .order_by("-created_at", "-pk")
        )
        if shown == "new":
            ideas = ideas.filter(status=SuggestionStatus.NEW)
        elif shown == "replied":
            ideas = ideas.filter(status=SuggestionStatus.REPLIED)
        page = Paginator(ideas, PAGE).get_page(request.GET.get("page"))
        waiting = Suggestion.objects.for_org(self.organization).filter(status=SuggestionStatus.NEW)
        context = {
            "page": page,
            "shown": shown,
            "waiting": waiting.count(),
            "may_reply": can(self.actor, "engagement.manage"),
            "form": ReplyForm(),
        }
        return render(request, "engagement/suggestions.html", context)


class SuggestionReplyView(OrgViewMixin, ServiceActionView):
    capability = "engagement.manage"
    form_class = ReplyForm
    success_url = "suggestions"
    success_url_kwargs = ("org_slug",)

    def get_object(self):
        return self.get_org_object(Suggestion, pk=self.kwargs["pk"])

    def form_invalid(self, form):
        self.flash_errors_of(form)
        return redirect(self.get_success_url(None))

    def flash_errors_of(self, form):
        from django.contrib import messages

        for errors in form.errors.values():
            for error in errors:
                messages.error(self.request, error)

    def perform(self, form):
        return services.suggestion_reply(
            actor=self.actor, suggestion=self.object, text=form.cleaned_data["text"]
        )

    def get_success_message(self, reply):
        if reply.sent:
            return _("Reply saved; the bot sends it to the member.")
        return _("Reply saved; it shows on the member's page (the bot cannot reach them).")
