"""Dashboard pages for the operator's own wording of the bot's messages: the list of messages
with the wording in use, and one message's editor (variables beside it, a live preview, the
versions kept). For the whole organization here (`org.manage`); the same views serve one group
(`community.manage`) through subclasses in communities, which return the group from
`get_community()` and name their own URLs."""

from django.conf import settings
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext_lazy
from django.views import View

from core.views import ServiceActionView
from tenancy.mixins import OrgViewMixin

from . import message_templates as service
from .composer import TEMPLATES, compose
from .forms import MessageTemplateForm
from .models import MessageTemplate

LANGUAGE_NAMES = dict(settings.LANGUAGES)


class MessageScope:
    """Which wording the page edits: the organization's (community None) or one group's."""

    capability = "org.manage"
    list_url_name = "message-templates"
    edit_url_name = "message-template-edit"
    preview_url_name = "message-template-preview"
    reset_url_name = "message-template-reset"
    restore_url_name = "message-template-restore"

    def get_community(self):
        return None

    def url_kwargs(self, **extra) -> dict:
        return {"org_slug": self.organization.slug, **extra}

    def list_url(self) -> str:
        return reverse(self.list_url_name, kwargs=self.url_kwargs())

    def message_url(self, name, key, language) -> str:
        return reverse(name, kwargs=self.url_kwargs(key=key, language=language))


class MessageTemplatesView(MessageScope, OrgViewMixin, View):
    def get(self, request, *args, **kwargs):
        community = self.get_community()
        org = self.organization
        active = {
            (t.key, t.language): t
            for t in MessageTemplate.objects.for_org(org).filter(
                is_active=True, community=community
            )
        }
        inherited = {}
        if community is not None:
            inherited = {
                (t.key, t.language): t
                for t in MessageTemplate.objects.for_org(org).filter(is_active=True, community=None)
            }
        rows, real = [], service.real_names(org, community)
        for key, spec in TEMPLATES.items():
            example = service.example_context(org, key, community, real)
            languages = []
            for language, name in LANGUAGE_NAMES.items():
                own = active.get((key, language))
                from_org = inherited.get((key, language))
                languages.append(
                    {
                        "code": language,
                        "name": name,
                        "own": own,
                        "from_org": from_org,
                        "text": (own or from_org).text
                        if own or from_org
                        else compose(spec.kind, example, language=language),
                        "edit_url": self.message_url(self.edit_url_name, key, language)
                        if spec.editable
                        else "",
                    }
                )
            rows.append({"key": key, "spec": spec, "languages": languages})
        context = {"rows": rows, "community": community}
        return render(request, "integrations/message_templates.html", context)


class MessageAction(MessageScope, OrgViewMixin, ServiceActionView):
    """A POST about one editable message in one language (404 for any other)."""

    def dispatch(self, request, *args, **kwargs):
        if kwargs.get("key") not in service.editable_templates():
            raise Http404
        if kwargs.get("language") not in LANGUAGE_NAMES:
            raise Http404
        self.key, self.language = kwargs["key"], kwargs["language"]
        return super().dispatch(request, *args, **kwargs)

    def get_success_url(self, result) -> str:
        return self.message_url(self.edit_url_name, self.key, self.language)


class MessageTemplateEditView(MessageAction):
    """One message in one language: its editor, preview and versions."""

    form_class = MessageTemplateForm
    success_message = gettext_lazy("Saved: members read this wording from now on.")

    def get(self, request, *args, form=None, status=200, **kwargs):
        community = self.get_community()
        org, key, language = self.organization, self.key, self.language
        active = service.active_template(org, key, language, community)
        inherited = service.inherited_text(org, key, language, community)
        if form is None:
            text = active.text if active else inherited or service.starter_text(key, language)
            form = MessageTemplateForm(initial={"text": text})
        text = form.data.get("text") if form.is_bound else form.initial.get("text")
        spec = TEMPLATES[key]
        context = {
            "community": community,
            "spec": spec,
            "language_name": LANGUAGE_NAMES[language],
            "form": form,
            "active": active,
            "inherited": inherited,
            "variables": [
                {"name": name, "meaning": meaning, "required": name in spec.required}
                for name, meaning in spec.variables.items()
            ],
            "preview": service.preview(org, key, language, text or "", community),
            "versions": [
                {
                    "row": version,
                    "restore_url": reverse(
                        self.restore_url_name,
                        kwargs=self.url_kwargs(key=key, language=language, version=version.pk),
                    ),
                }
                for version in service.history(org, key, language, community)
            ],
            "list_url": self.list_url(),
            "preview_url": self.message_url(self.preview_url_name, key, language),
            "reset_url": self.message_url(self.reset_url_name, key, language),
            "other_languages": [
                {"name": name, "url": self.message_url(self.edit_url_name, key, code)}
                for code, name in LANGUAGE_NAMES.items()
                if code != language
            ],
            "lang": language,
        }
        return render(request, "integrations/message_template_edit.html", context, status=status)

    def perform(self, form):
        return service.template_save(
            actor=self.actor,
            key=self.key,
            language=self.language,
            text=form.cleaned_data["text"],
            community=self.get_community(),
        )

    def get_success_url(self, result) -> str:
        return self.list_url()


class MessageTemplatePreviewView(MessageScope, OrgViewMixin, View):
    """The live preview as the operator types (HTMX POST): the wording filled in with the
    example, or what is wrong with it. Changes nothing."""

    def post(self, request, *args, key, language, **kwargs):
        if key not in service.editable_templates() or language not in LANGUAGE_NAMES:
            raise Http404
        text = request.POST.get("text", "")[: service.MAX_LENGTH * 2]
        preview = service.preview(self.organization, key, language, text, self.get_community())
        context = {"preview": preview, "lang": language}
        return render(request, "integrations/partials/message_preview.html", context)


class MessageTemplateResetView(MessageAction):
    """Back to the built-in text (or the organization's, for a group); the wording is kept."""

    success_message = gettext_lazy("Back to the built-in text. The wording is kept in the history.")

    def perform(self, form):
        return service.template_reset(
            actor=self.actor, key=self.key, language=self.language, community=self.get_community()
        )


class MessageVersionRestoreView(MessageAction):
    """Use an earlier version of this message's wording again (saved as a new version)."""

    success_message = gettext_lazy("Saved: members read this wording from now on.")

    def get_object(self):
        return get_object_or_404(
            MessageTemplate.objects.for_org(self.organization),
            pk=self.kwargs["version"],
            key=self.key,
            language=self.language,
            community=self.get_community(),
        )

    def perform(self, form):
        return service.template_restore(actor=self.actor, version=self.object)


def message_urlpatterns(prefix: str, views) -> list:
    """The message pages under `prefix`: `views` are the list, edit, preview, reset and restore
    views of one scope, whose URL names they carry (MessageScope)."""
    from django.urls import path

    list_view, edit_view, preview_view, reset_view, restore_view = views
    message = prefix + "<str:key>/<str:language>/"
    return [
        path(prefix, list_view.as_view(), name=list_view.list_url_name),
        path(message, edit_view.as_view(), name=list_view.edit_url_name),
        path(message + "preview/", preview_view.as_view(), name=list_view.preview_url_name),
        path(message + "reset/", reset_view.as_view(), name=list_view.reset_url_name),
        path(
            message + "versions/<int:version>/restore/",
            restore_view.as_view(),
            name=list_view.restore_url_name,
        ),
    ]
