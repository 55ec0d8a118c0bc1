"""Staff notifications: once per thing, the bell and its page, each person's email choice,
and delivery through the Celery tasks (run in-process: task_always_eager)."""

from datetime import UTC, datetime

import pytest
from django.core import mail
from django.urls import reverse

from tenancy import notify
from tenancy.models import Notification, NotificationPreference
from tenancy.tasks import send_notification_digests, send_notification_emails

from ..factories import OrgMembershipFactory, UserFactory

KIND = "care.case_assigned"  # registered by care at start-up


@pytest.fixture
def eager_tasks(monkeypatch):
    from config.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)


def _tell(org, users, key="case:1:assigned:opened", case=1):
    return notify.notify(
        organization=org,
        user_ids=[u.pk for u in users],
        kind=KIND,
        key=key,
        params={"case": case, "subject": "鱼油漏了"},
        url=f"/o/{org.slug}/care/{case}/",
    )


def _rows(org, user):
    return Notification.objects.for_org(org).filter(user=user)


def test_one_thing_is_told_once_per_person(org_a):
    assert _tell(org_a.org, [org_a.owner, org_a.deputy]) == 2
    assert _tell(org_a.org, [org_a.owner, org_a.deputy]) == 0
    assert _tell(org_a.org, [org_a.owner], key="case:2:assigned:opened", case=2) == 1
    assert _rows(org_a.org, org_a.owner).count() == 2
    assert _rows(org_a.org, org_a.deputy).count() == 1


def test_the_database_refuses_a_second_row_for_the_same_key(org_a):
    from django.db import IntegrityError, transaction

    _tell(org_a.org, [org_a.owner])
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(
            organization=org_a.org, user=org_a.owner, kind=KIND, key="case:1:assigned:opened"
        )


def test_only_active_people_of_the_organization_are_told(org_a, org_b):
    from tenancy.models import OrgMembership

    gone = UserFactory()
    OrgMembershipFactory(organization=org_a.org, user=gone, is_active=False)
    assert _tell(org_a.org, [org_b.owner, org_a.outsider, gone]) == 0
    assert not Notification.objects.for_org(org_a.org).exists()
    assert OrgMembership.objects.for_org(org_a.org).filter(user=gone).exists()


def test_an_unregistered_kind_is_a_programming_error(org_a):
    with pytest.raises(KeyError):
        notify.notify(organization=org_a.org, user_ids=[org_a.owner.pk], kind="nope", key="k")


def test_the_text_is_rendered_in_the_readers_language(org_a):
    from django.utils import translation

    _tell(org_a.org, [org_a.owner])
    row = _rows(org_a.org, org_a.owner).get()
    assert notify.text_of(row, org_a.org) == "工单 #1 已分配给你：鱼油漏了"
    with translation.override("en"):
        assert notify.text_of(row, org_a.org) == "Case #1 is assigned to you: 鱼油漏了"


# --- preferences -----------------------------------------------------------------------------


def _prefer(org, user, mode, hour=8, quiet=()):
    return notify.preference_update(
        organization=org, user=user, email_mode=mode, digest_hour=hour, quiet_kinds=list(quiet)
    )


@pytest.mark.parametrize(
    "mode, quiet, state",
    [
        (None, (), "pending"),  # never chose: email right away
        ("immediate", (), "pending"),
        ("digest", (), "digest"),
        ("never", (), ""),
        ("immediate", (KIND,), ""),  # no email for this kind, the bell still has it
    ],
)
def test_each_person_chooses_how_they_hear(org_a, mode, quiet, state):
    if mode:
        _prefer(org_a.org, org_a.owner, mode, quiet=quiet)
    _tell(org_a.org, [org_a.owner])
    assert _rows(org_a.org, org_a.owner).get().email_state == state


def test_bad_preferences_are_refused_with_reasons(org_a):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        _prefer(org_a.org, org_a.owner, "sometimes", hour=24, quiet=["nope"])
    assert set(exc.value.message_dict) == {"email_mode", "digest_hour", "quiet_kinds"}
    assert not NotificationPreference.objects.for_org(org_a.org).exists()


def test_waiting_emails_follow_a_changed_choice(org_a):
    _prefer(org_a.org, org_a.owner, "digest")
    _tell(org_a.org, [org_a.owner])
    _prefer(org_a.org, org_a.owner, "never")
    assert _rows(org_a.org, org_a.owner).get().email_state == ""
    _tell(org_a.org, [org_a.owner], key="case:2:assigned:opened", case=2)  # never: no email
    _prefer(org_a.org, org_a.owner, "digest")
    _tell(org_a.org, [org_a.owner], key="case:3:assigned:opened", case=3)
    _prefer(org_a.org, org_a.owner, "immediate")
    states = dict(_rows(org_a.org, org_a.owner).values_list("key", "email_state"))
    assert states == {
        "case:1:assigned:opened": "",
        "case:2:assigned:opened": "",
        "case:3:assigned:opened": "pending",
    }


def test_the_settings_page_saves_the_choice(org_a):
    client = org_a.client_for(org_a.deputy)
    url = reverse("notification-settings", kwargs={"org_slug": org_a.org.slug})
    page = client.get(url)
    assert page.status_code == 200
    assert "每天汇总一封" in page.content.decode()
    response = client.post(
        url,
        {"email_mode": "digest", "digest_hour": "19", "emailed_kinds": ["care.case_due"]},
    )
    assert response.status_code == 302
    pref = NotificationPreference.objects.for_org(org_a.org).get(user=org_a.deputy)
    assert (pref.email_mode, pref.digest_hour) == ("digest", 19)
    assert "care.case_due" not in pref.quiet_kinds
    assert {"care.case_assigned", "campaigns.budget_near"} <= set(pref.quiet_kinds)
    bad = client.post(url, {"email_mode": "often", "digest_hour": "30"})
    assert bad.status_code == 400
    assert "选择一个有效的选项" in bad.content.decode()


# --- delivery through Celery -------------------------------------------------------------------


def test_an_immediate_email_goes_out_after_the_commit_through_the_task(
    org_a, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _tell(org_a.org, [org_a.owner, org_a.deputy])
    assert mail.outbox == []  # nothing is sent inside the transaction
    assert len(callbacks) == 1
    callbacks[0]()  # the commit: the task runs (eagerly here)
    assert sorted(m.to[0] for m in mail.outbox) == [org_a.deputy.email, org_a.owner.email]
    message = next(m for m in mail.outbox if m.to == [org_a.owner.email])
    assert message.subject == f"[{org_a.org.name}] 工单 #1 已分配给你：鱼油漏了"
    assert f"/o/{org_a.org.slug}/care/1/" in message.body
    assert f"/o/{org_a.org.slug}/notifications/settings/" in message.body
    assert set(Notification.objects.for_org(org_a.org).values_list("email_state", flat=True)) == {
        "sent"
    }
    send_notification_emails.delay(org_a.org.pk)  # the catch-up run finds nothing left
    assert len(mail.outbox) == 2


def test_a_failing_mail_server_keeps_the_email_for_the_next_run(org_a, monkeypatch):
    _tell(org_a.org, [org_a.owner])

    def broken(*args, **kwargs):
        raise OSError("smtp down")

    monkeypatch.setattr(notify, "send_mail", broken)
    with pytest.raises(OSError):
        notify.send_pending_emails(org_a.org)
    assert _rows(org_a.org, org_a.owner).get().email_state == "pending"
    monkeypatch.undo()
    assert notify.send_pending_emails(org_a.org) == 1
    assert _rows(org_a.org, org_a.owner).get().email_state == "sent"


def test_the_daily_digest_goes_once_at_the_chosen_local_hour(org_a, eager_tasks, time_machine):
    _prefer(org_a.org, org_a.owner, "digest", hour=8)
    # 07:30 in Shanghai is 23:30 UTC the day before
    time_machine.move_to(datetime(2026, 3, 1, 23, 30, tzinfo=UTC), tick=False)
    _tell(org_a.org, [org_a.owner])
    _tell(org_a.org, [org_a.owner], key="case:2:assigned:opened", case=2)
    send_notification_emails.delay(org_a.org.pk)
    send_notification_digests.delay(org_a.org.pk)
    assert mail.outbox == []  # not immediate, and not yet 8 o'clock
    time_machine.move_to(datetime(2026, 3, 2, 0, 10, tzinfo=UTC), tick=False)  # 08:10 local
    send_notification_digests.delay(org_a.org.pk)
    assert len(mail.outbox) == 1
    digest = mail.outbox[0]
    assert digest.subject == f"[{org_a.org.name}] 每日汇总：2 条通知"
    assert "工单 #1 已分配给你" in digest.body and "工单 #2 已分配给你" in digest.body
    assert "03-02 07:30" in digest.body  # in the organization's time zone
    send_notification_digests.delay(org_a.org.pk)  # once a day
    _tell(org_a.org, [org_a.owner], key="case:3:assigned:opened", case=3)
    send_notification_digests.delay(org_a.org.pk)
    assert len(mail.outbox) == 1
    time_machine.move_to(datetime(2026, 3, 3, 0, 5, tzinfo=UTC), tick=False)  # next morning
    send_notification_digests.delay(org_a.org.pk)
    assert len(mail.outbox) == 2
    assert "工单 #3" in mail.outbox[1].body and "工单 #1" not in mail.outbox[1].body


# --- the bell and its page ---------------------------------------------------------------------


def test_the_bell_counts_unread_and_the_page_marks_them_read(org_a):
    _tell(org_a.org, [org_a.deputy])
    _tell(org_a.org, [org_a.deputy], key="case:2:assigned:opened", case=2)
    _tell(org_a.org, [org_a.owner], key="case:3:assigned:opened", case=3)
    client = org_a.client_for(org_a.deputy)
    slug = org_a.org.slug
    home = client.get(reverse("dashboard", kwargs={"org_slug": slug})).content.decode()
    assert 'data-testid="bell-count">2<' in home
    page = client.get(reverse("notifications", kwargs={"org_slug": slug})).content.decode()
    assert page.count('data-testid="notification"') == 2
    assert "工单 #3" not in page  # the owner's, not the deputy's
    first = _rows(org_a.org, org_a.deputy).get(key="case:1:assigned:opened")
    read = reverse("notifications", kwargs={"org_slug": slug})
    response = client.post(read, {"notification": first.pk, "go": "1"})
    assert response["Location"] == f"/o/{slug}/care/1/"
    first.refresh_from_db()
    assert first.read_at is not None
    home = client.get(reverse("dashboard", kwargs={"org_slug": slug})).content.decode()
    assert 'data-testid="bell-count">1<' in home
    client.post(read)
    home = client.get(reverse("dashboard", kwargs={"org_slug": slug})).content.decode()
    assert 'data-testid="bell-count"' not in home
    assert _rows(org_a.org, org_a.owner).get().read_at is None


def test_someone_elses_notification_is_not_found(org_a, org_b):
    _tell(org_a.org, [org_a.owner])
    _tell(org_b.org, [org_b.owner])
    theirs = _rows(org_a.org, org_a.owner).get()
    other_org = _rows(org_b.org, org_b.owner).get()
    read = reverse("notifications", kwargs={"org_slug": org_a.org.slug})
    client = org_a.client_for(org_a.deputy)
    assert client.post(read, {"notification": theirs.pk}).status_code == 404
    assert client.post(read, {"notification": other_org.pk}).status_code == 404
    assert client.post(read, {"notification": "x1"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None
