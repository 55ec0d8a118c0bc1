"""The person's own notifications (the bell's page), marking them read, and how they want to
hear of them. Every page shows only the signed-in person's rows of this organization."""

from django import forms
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from core.views import ServiceActionView

from . import notify
from .mixins import OrgViewMixin
from .notification_models import EmailMode, Notification

PAGE = 30


class NotificationListView(OrgViewMixin, ServiceActionView):
    """GET: the person's notifications, newest first. POST `notification=<id>`: mark that one
    read (with `go=1`, then open what it is about); POST without it: mark them all read."""

    capability = "org.view"
    success_url = "notifications"
    success_url_kwargs = ("org_slug",)

    def get(self, request, org_slug):
        rows = notify.mine(self.organization, request.user).order_by("-created_at", "-pk")
        if request.GET.get("show") == "unread":
            rows = rows.filter(read_at=None)
        page = Paginator(rows, PAGE).get_page(request.GET.get("page"))
        items = [{"notification": n, "text": notify.text_of(n, self.organization)} for n in page]
        return render(
            request,
            "tenancy/notifications.html",
            {
                "page": page,
                "items": items,
                "unread_only": request.GET.get("show") == "unread",
                "unread": notify.unread_count(self.organization, request.user),
            },
        )

    def get_object(self):
        raw = self.request.POST.get("notification", "")
        if not raw:
            return None
        if not raw.isdigit() or len(raw) > 18:
            raise Http404
        try:
            return notify.mine(self.organization, self.request.user).get(pk=int(raw))
        except Notification.DoesNotExist:
            raise Http404 from None

    def perform(self, form):
        notify.mark_read(
            organization=self.organization,
            user=self.request.user,
            notification_id=self.object.pk if self.object is not None else None,
        )
        return self.object

    def get_success_url(self, notification):
        if (
            notification is not None
            and self.request.POST.get("go")
            and notification.url.startswith("/")
            and url_has_allowed_host_and_scheme(notification.url, allowed_hosts=None)
        ):
            return notification.url
        return super().get_success_url(notification)


class NotificationSettingsForm(forms.Form):
    email_mode = forms.ChoiceField(
        label=_("Email me"), choices=EmailMode.choices, widget=forms.RadioSelect
    )
    digest_hour = forms.TypedChoiceField(
        label=_("Daily summary at"),
        choices=[(h, f"{h:02d}:00") for h in range(24)],
        coerce=int,
        help_text=_("In the organization's time zone."),
    )
    emailed_kinds = forms.MultipleChoiceField(
        label=_("Email me about"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The bell shows everything; these choose what also comes by email."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["emailed_kinds"].choices = [(k.code, k.label) for k in notify.kinds()]

    @classmethod
    def initial_from(cls, pref) -> dict:
        return {
            "email_mode": pref.email_mode,
            "digest_hour": pref.digest_hour,
            "emailed_kinds": [
                k.code for k in notify.kinds() if k.code not in (pref.quiet_kinds or [])
            ],
        }


class NotificationSettingsView(OrgViewMixin, ServiceActionView):
    capability = "org.view"
    form_class = NotificationSettingsForm
    success_message = _("Saved.")
    success_url = "notification-settings"
    success_url_kwargs = ("org_slug",)

    def get(self, request, org_slug, form=None, status=200):
        pref = notify.preference_for(self.organization, request.user)
        form = form or NotificationSettingsForm(initial=NotificationSettingsForm.initial_from(pref))
        return render(request, "tenancy/notification_settings.html", {"form": form}, status=status)

    def perform(self, form):
        emailed = set(form.cleaned_data["emailed_kinds"])
        return notify.preference_update(
            organization=self.organization,
            user=self.request.user,
            email_mode=form.cleaned_data["email_mode"],
            digest_hour=form.cleaned_data["digest_hour"],
            quiet_kinds=[k.code for k in notify.kinds() if k.code not in emailed],
        )
