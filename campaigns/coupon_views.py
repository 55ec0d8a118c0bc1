"""The coupon pages of the dashboard (docs/coupons.md): templates (list, create, change, retire),
issuing by hand to one member or a filtered list, the issued coupons with their history, and the
organization's coupon settings (automatic paths, segment perks). Thin: every change is a
function of campaigns/coupons.py."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from communities.models import VipTier
from communities.selectors import communities_where, visible_communities
from core.formatting import money, num
from core.views import ServiceActionView
from members.models import MembershipStatus
from members.selectors import member_for, search_members
from tenancy.mixins import OrgViewMixin
from tenancy.permissions import can, can_anywhere

from . import coupons
from .coupon_forms import (
    CouponSettingsForm,
    CouponTemplateForm,
    IssuedFilterForm,
    IssueForm,
    PerkForm,
)
from .models import (
    CouponKind,
    CouponScope,
    CouponTemplate,
    IssuedCoupon,
    SegmentPerk,
)
from .selectors import coupon_templates, visible_campaigns, visible_coupons

PAGE = 50
SAMPLE = 20  # members named on the issue page before issuing to a list


def terms_text(template) -> str:
    """A template's terms in a line, for staff: "¥10 off · from ¥100 · free shipping · 30 days"."""
    parts = []
    if template.kind == CouponKind.PERCENT:
        part = _("%(percent)s%% off") % {"percent": num(template.value)}
        if template.max_off is not None:
            part += " " + _("(at most %(amount)s)") % {"amount": money(template.max_off)}
        parts.append(part)
    elif template.value:
        parts.append(_("%(amount)s off") % {"amount": money(template.value)})
    if template.min_spend:
        parts.append(_("on %(amount)s or more") % {"amount": money(template.min_spend)})
    if template.free_shipping:
        parts.append(_("free shipping"))
    if template.valid_days:
        parts.append(_("valid %(n)s days after issue") % {"n": template.valid_days})
    if template.valid_until:
        until = formats.date_format(timezone.localtime(template.valid_until), "Y-m-d H:i")
        parts.append(_("until %(date)s") % {"date": until})
    if template.scope != CouponScope.ALL:
        parts.append(str(template.get_scope_display()))
    return " · ".join(parts)


def _template_for(org, pk) -> CouponTemplate:
    try:
        return (
            CouponTemplate.objects.for_org(org)
            .select_related("redemption_item")
            .prefetch_related("targets")
            .get(pk=pk)
        )
    except (CouponTemplate.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


class CouponListView(OrgViewMixin, View):
    """The coupon templates, with how many were issued, used and are still open."""

    capability_anywhere = "campaign.view"

    def get(self, request, org_slug):
        page = Paginator(coupon_templates(self.organization), PAGE).get_page(
            request.GET.get("page")
        )
        for template in page:
            template.terms = terms_text(template)
        context = {
            "page": page,
            "may_manage": can(self.actor, "campaign.manage"),
            "may_issue": can_anywhere(self.actor, "campaign.manage"),
        }
        return render(request, "campaigns/coupons/list.html", context)


class CouponCreateView(OrgViewMixin, ServiceActionView):
    capability = "campaign.manage"
    success_message = gettext_lazy("Coupon saved.")
    success_url = "coupons"
    success_url_kwargs = ("org_slug",)
    title = gettext_lazy("New coupon")

    def _form(self, data=None, initial=None):
        return CouponTemplateForm(
            data,
            initial=initial,
            campaigns=visible_campaigns(self.actor).order_by("-starts_at")[:200],
            communities=visible_communities(self.actor).filter(status="active").order_by("name"),
        )

    def get(self, request, org_slug, pk=None, form=None, status=200):
        context = {
            "form": form or self._form(initial=self.initial()),
            "title": self.title,
            "replacing": self.replacing(),
        }
        return render(request, "campaigns/coupons/form.html", context, status=status)

    def initial(self):
        return None

    def replacing(self):
        return None

    def get_form(self):
        return self._form(self.request.POST)

    def perform(self, form):
        return coupons.template_create(actor=self.actor, **form.terms())


class CouponEditView(CouponCreateView):
    """A template's terms never change once saved: this saves a new template from the old
    one's terms as changed, and retires the old one (its coupons stay valid)."""

    success_message = gettext_lazy("Saved as a new coupon; the old one is retired.")
    title = gettext_lazy("Change a coupon")

    def get_object(self):
        return _template_for(self.organization, self.kwargs["pk"])

    def replacing(self):
        return self.get_object()

    def initial(self):
        return CouponTemplateForm.initial_from(self.replacing())

    def perform(self, form):
        return coupons.template_replace(actor=self.actor, template=self.object, **form.terms())


class CouponRetireView(OrgViewMixin, ServiceActionView):
    capability = "campaign.manage"
    success_message = gettext_lazy("Coupon retired: no more are issued; those issued stay valid.")
    success_url = "coupons"
    success_url_kwargs = ("org_slug",)

    def get_object(self):
        return _template_for(self.organization, self.kwargs["pk"])

    def perform(self, form):
        coupons.template_retire(actor=self.actor, template=self.object)


class CouponIssueView(OrgViewMixin, ServiceActionView):
    """Give a coupon by hand: to one member (`?member=`), or to the members the filters find
    (the members list's filters: group, tag, tier, status, search). Issuing to a list names
    how many were issued and who was skipped, and why."""

    capability_anywhere = "campaign.manage"
    permission_denied_message = gettext_lazy("You may not give this member coupons.")
    atomic = False  # each member's coupon on its own: the ones that can be issued are kept

    FILTERS = ("q", "community", "status", "tag", "tier")

    def _templates(self):
        return CouponTemplate.objects.for_org(self.organization).filter(is_active=True)

    def _single(self):
        raw = self.request.GET.get("member")
        return member_for(self.actor, raw) if raw else None

    def _filters(self) -> dict:
        return {k: self.request.GET[k] for k in self.FILTERS if self.request.GET.get(k)}

    def _members(self):
        return search_members(self.actor, self._filters())

    def get(self, request, org_slug, form=None, status=200):
        single = self._single()
        chosen = request.GET.get("template", "")
        initial = {"template": chosen if chosen.isdigit() and len(chosen) < 19 else None}
        context = {
            "single": single,
            "form": form or IssueForm(templates=self._templates(), initial=initial),
            "filters": self._filters(),
            "statuses": MembershipStatus.choices,
            "communities": visible_communities(self.actor).order_by("name"),
            "tiers": VipTier.objects.for_org(self.organization).filter(is_active=True),
            "limit": coupons.BATCH_LIMIT,
        }
        if single is None:
            members = self._members()
            context["count"] = members.count()
            context["sample"] = list(members[:SAMPLE])
            if form is None:
                context["form"] = IssueForm(
                    templates=self._templates(), initial={**initial, "expected": context["count"]}
                )
        return render(request, "campaigns/coupons/issue.html", context, status=status)

    def get_form(self):
        return IssueForm(self.request.POST, templates=self._templates())

    def perform(self, form):
        template, reason = form.cleaned_data["template"], form.cleaned_data["reason"]
        single = self._single()
        if single is not None:
            return coupons.coupon_issue(
                actor=self.actor, template=template, member=single, reason=reason
            )
        members = self._members()
        count = members.count()
        if count == 0:
            raise ValidationError(_("No member matches these filters."))
        if form.cleaned_data["expected"] != count:
            raise ValidationError(
                _("The list changed: %(n)s members match now. Check it and issue again.")
                % {"n": count}
            )
        return coupons.coupon_issue_many(
            actor=self.actor,
            template=template,
            members=members[: coupons.BATCH_LIMIT + 1],
            reason=reason,
        )

    def success_response(self, result):
        if isinstance(result, IssuedCoupon):
            messages.success(
                self.request,
                _("%(coupon)s given to %(member)s.")
                % {"coupon": result.template.name, "member": result.member},
            )
            url = reverse("issued-coupons", kwargs={"org_slug": self.organization.slug})
            return redirect(f"{url}?member={result.member_id}")
        context = {
            "issued": len(result.issued),
            "refused": result.refused,
            "template": result.issued[0].template if result.issued else None,
        }
        return render(self.request, "campaigns/coupons/issue_result.html", context)


class IssuedCouponListView(OrgViewMixin, View):
    """The coupons issued to members the person may see, with filters."""

    capability_anywhere = "campaign.view"

    def get(self, request, org_slug):
        templates = CouponTemplate.objects.for_org(self.organization).order_by("-created_at")
        filters = IssuedFilterForm(request.GET or None, templates=templates)
        rows = visible_coupons(self.actor).select_related("template", "member", "order")
        member = None
        if filters.is_valid():
            data = filters.cleaned_data
            if data["template"]:
                rows = rows.filter(template=data["template"])
            if data["status"]:
                rows = rows.filter(status=data["status"])
            if data["member"]:
                rows = rows.filter(member_id=data["member"])
                member = rows.first().member if rows.exists() else None
            if data["q"].strip():
                query = data["q"].strip()
                rows = rows.filter(
                    Q(member__display_name__icontains=query) | Q(member__name_card__icontains=query)
                )
        page = Paginator(rows.order_by("-issued_at", "-pk"), PAGE).get_page(request.GET.get("page"))
        context = {"page": page, "filters": filters, "member": member}
        return render(request, "campaigns/coupons/issued.html", context)


class IssuedCouponView(OrgViewMixin, View):
    """One coupon: its terms, who holds it, and its history (issued, used, returned, expired)."""

    capability_anywhere = "campaign.view"

    def get(self, request, org_slug, pk):
        try:
            coupon = (
                visible_coupons(self.actor).select_related("template", "member", "order").get(pk=pk)
            )
        except (IssuedCoupon.DoesNotExist, ValueError, TypeError):
            raise Http404 from None
        context = {
            "coupon": coupon,
            "terms": terms_text(coupon.template),
            "history": coupon.history.select_related("order").order_by("at", "pk"),
            "show_member": can(self.actor, "member.view")
            or communities_where(self.actor, "member.view").exists(),
        }
        return render(request, "campaigns/coupons/issued_detail.html", context)


class CouponSettingsView(OrgViewMixin, ServiceActionView):
    """Which coupon each automatic path gives, and the segment perks applied at checkout."""

    capability = "campaign.manage"
    success_message = gettext_lazy("Coupon settings saved.")
    success_url = "coupon-settings"
    success_url_kwargs = ("org_slug",)

    def _templates(self):
        return CouponTemplate.objects.for_org(self.organization).filter(is_active=True)

    def get(self, request, org_slug, form=None, status=200):
        current = coupons.settings_for(self.organization)
        initial = {
            "newcomer_template": current.newcomer_template_id,
            "wake_up_template": current.wake_up_template_id,
            "showcase_template": current.showcase_template_id,
            "showcase_days": current.showcase_days,
        }
        retired = [
            (label, template)
            for label, template in (
                (_("Newcomer coupon"), current.newcomer_template),
                (_("Wake-up coupon"), current.wake_up_template),
                (_("Photo reward coupon"), current.showcase_template),
            )
            if template is not None and not template.is_active
        ]
        context = {
            "form": form or CouponSettingsForm(initial=initial, templates=self._templates()),
            "retired": retired,
            "perks": SegmentPerk.objects.for_org(self.organization).order_by(
                "-is_active", "-created_at"
            ),
        }
        return render(request, "campaigns/coupons/settings.html", context, status=status)

    def get_form(self):
        return CouponSettingsForm(self.request.POST, templates=self._templates())

    def perform(self, form):
        coupons.settings_save(actor=self.actor, **form.cleaned_data)


class PerkCreateView(OrgViewMixin, ServiceActionView):
    capability = "campaign.manage"
    form_class = PerkForm
    success_message = gettext_lazy("Perk saved: it applies at checkout from now on.")
    success_url = "coupon-settings"
    success_url_kwargs = ("org_slug",)

    def get(self, request, org_slug, form=None, status=200):
        return render(
            request, "campaigns/coupons/perk_form.html", {"form": form or PerkForm()}, status=status
        )

    def perform(self, form):
        return coupons.perk_save(actor=self.actor, **form.cleaned_data)


class PerkToggleView(OrgViewMixin, ServiceActionView):
    capability = "campaign.manage"
    success_url = "coupon-settings"
    success_url_kwargs = ("org_slug",)

    def get_object(self):
        return self.get_org_object(SegmentPerk, pk=self.kwargs["pk"])

    def get_success_message(self, perk):
        return _("Perk turned on.") if perk.is_active else _("Perk turned off.")

    def perform(self, form):
        return coupons.perk_toggle(actor=self.actor, perk=self.object)
