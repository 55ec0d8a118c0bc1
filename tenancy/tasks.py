"""Celery plumbing for tenant work: tasks take the organization id first and set the scope.

    @tenant_task(autoretry_for=(OperationalError,), retry_backoff=True)
    def send_reminders(org, membership_id): ...

    send_reminders.delay(org.pk, membership.pk)   # enqueue from a service, on commit

Inside the task body the organization is in scope, so tenant managers work and fail closed
for every other organization. Arguments travel as JSON (ids, never model instances).
"""

import functools

from celery import shared_task
from django.conf import settings
from django.utils.module_loading import import_string

from .models import Organization
from .scope import org_scope
from .system import system_db


def tenant_task(*task_args, **task_options):
    def decorator(fn):
        @functools.wraps(fn)
        def run(organization_id, *args, **kwargs):
            organization = Organization.objects.get(pk=organization_id)
            with org_scope(organization):
                return fn(organization, *args, **kwargs)

        return shared_task(*task_args, **task_options)(run)

    if len(task_args) == 1 and callable(task_args[0]) and not task_options:
        fn, task_args = task_args[0], ()
        return decorator(fn)
    return decorator


@shared_task
def fan_out(task_name: str):
    """Beat calls this once per job; it queues the job for every organization. Only the jobs
    of settings.TENANT_JOBS may be named."""
    if task_name not in settings.TENANT_JOBS:
        raise ValueError(f"not a tenant job: {task_name}")
    task = import_string(task_name)
    # system work across organizations: on the system role (tenancy/system.py)
    for org_id in Organization.objects.using(system_db()).values_list("pk", flat=True):
        task.delay(org_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_password_reset(user_id: int, language: str):
    """The password-reset mail, composed and sent here rather than in the request. The link is
    made now (a token for the account as it is now) and points at SITE_URL."""
    from .emails import send_password_reset_email
    from .models import User

    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is not None and user.has_usable_password():
        send_password_reset_email(user, language)


@tenant_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_notification_emails(org):
    """Notifications to be mailed right away (queued after the commit that made them, and
    every few minutes from beat to catch up); see tenancy/notify.py."""
    from .notify import send_pending_emails

    return send_pending_emails(org)


@tenant_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_notification_digests(org):
    """The daily digests whose hour has come (tenancy/notify.py)."""
    from .notify import send_digests

    return send_digests(org)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_signup_mail(signup_id: int):
    """A sign-up's mail (tenancy/signup.py), composed and sent here rather than in the request;
    a sign-up already verified gets nothing."""
    from .emails import send_signup_email
    from .models import SignupRequest

    signup = SignupRequest.objects.filter(pk=signup_id, verified_at=None).first()
    if signup is not None:
        send_signup_email(signup)
