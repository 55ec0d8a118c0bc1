"""The entry-review queue: members who joined a group without meeting its entry rules, where
the group asked staff to review. Staff see the reviews of the groups they may see and resolve
them where they may remove members (members.services.entry_review_resolve)."""

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext_lazy
from django.views import View

from core.views import ServiceActionView
from tenancy.mixins import OrgViewMixin
from tenancy.permissions import can

from . import services
from .models import EntryReview, EntryReviewStatus
from .selectors import visible_memberships

PAGE = 50


def visible_reviews(actor):
    return EntryReview.objects.for_org(actor.organization).filter(
        membership__in=visible_memberships(actor)
    )


class EntryReviewListView(OrgViewMixin, View):
    capability_anywhere = "member.view"

    def get(self, request, org_slug):
        resolved = request.GET.get("status") == "resolved"
        reviews = visible_reviews(self.actor).select_related(
            "community", "membership", "membership__member", "membership__identity"
        )
        if resolved:
            reviews = reviews.exclude(status=EntryReviewStatus.OPEN).order_by("-resolved_at")
        else:
            reviews = reviews.filter(status=EntryReviewStatus.OPEN).order_by("opened_at", "pk")
        page = Paginator(reviews, PAGE).get_page(request.GET.get("page"))
        rows = [
            {"review": r, "can_resolve": can(self.actor, "member.remove", r.community)}
            for r in page
        ]
        context = {"page": page, "rows": rows, "resolved": resolved}
        return render(request, "members/entry_reviews.html", context)


class EntryReviewResolveView(OrgViewMixin, ServiceActionView):
    """POST decision=approve|remove (and a note); the right is checked in the review's group."""

    capability_anywhere = "member.view"
    success_message = gettext_lazy("Review resolved.")

    def get_object(self):
        try:
            return visible_reviews(self.actor).select_related("community").get(pk=self.kwargs["pk"])
        except EntryReview.DoesNotExist:
            raise Http404 from None

    def perform(self, form):
        return services.entry_review_resolve(
            actor=self.actor,
            review=self.object,
            decision=self.request.POST.get("decision", ""),
            note=self.request.POST.get("note", ""),
        )

    def get_success_url(self, result):
        target = self.request.POST.get("next", "")
        return target if target.startswith("/o/") else f"/o/{self.kwargs['org_slug']}/reviews/"
