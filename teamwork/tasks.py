"""Celery jobs of the team side: thin, per organization, idempotent (fanned out by beat)."""

from tenancy.tasks import tenant_task

from .services import awards, goals


@tenant_task
def open_award_round(org):
    """Hourly: once the organization's month has turned, compute the month before's award
    nominees (once: the round is unique per month, and a racing worker's insert loses)."""
    award_round = awards.round_open(org)
    return {"round": award_round.pk if award_round else None}


@tenant_task
def check_goals(org):
    """Hourly: record the goals whose figure reached their target."""
    return {"met": goals.goals_check(org)}
