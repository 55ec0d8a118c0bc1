"""The handler table: every event type has a handler, in the stages' fixed order."""

import pytest

from campaigns.batch import OrderEvents
from care.batch import CareEvents
from ingestion.pipeline import handler_table
from integrations.event_schema import EVENT_TYPES
from members.batch import MemberEvents


class Stage:
    def __init__(self, name, types):
        self.name, self.types = name, types

    def handlers(self):
        return {t: (lambda event, name=self.name: name) for t in self.types}


def test_every_type_gets_the_handlers_of_each_stage_in_order():
    first = Stage("members", EVENT_TYPES)
    second = Stage("orders", ["order.placed"])
    table = handler_table([first, second])
    assert set(table) == set(EVENT_TYPES)
    assert [h(None) for h in table["order.placed"]] == ["members", "orders"]
    assert [h(None) for h in table["member.joined"]] == ["members"]


def test_a_type_without_handler_is_an_error():
    with pytest.raises(RuntimeError, match="no handler"):
        handler_table([Stage("members", ["member.joined"])])


def test_an_unknown_type_cannot_be_registered():
    with pytest.raises(KeyError):
        handler_table([Stage("members", [*EVENT_TYPES, "member.teleported"])])


def test_the_real_stages_cover_every_type():
    """The product's stages leave no event type unhandled (their handlers() need no data)."""
    stages = [object.__new__(cls) for cls in (MemberEvents, OrderEvents, CareEvents)]
    for stage in stages:
        stage.milestones = []  # CareEvents hands its list's append to the table
    table = handler_table(stages)
    assert all(table[t] for t in EVENT_TYPES)
    assert [h.__self__.__class__ for h in table["order.placed"]] == [MemberEvents, OrderEvents]
