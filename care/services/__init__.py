"""Every change to member care: open a case, move it one step, comment, assign; settings and
keywords. Each is atomic, audited, and checks `care.manage` in the case's group. One module per
concern; this package re-exports their public functions."""

from .cases import (
    ASSIGNEE_ORDER,
    MAX_TEXT,
    REOPENABLE,
    STEP_FIELDS,
    build_case,
    case_assign,
    case_comment,
    case_open,
    case_reopen,
    case_step,
    clean_choice,
    clean_text,
    default_assignees,
    may_handle,
    open_complaint,
    require_case,
    settings_for,
    step_order,
)
from .configuration import (
    care_settings_update,
    clean_keywords,
    community_keywords_set,
    may_open_cases,
    privacy_sections,
)

__all__ = [
    "ASSIGNEE_ORDER",
    "MAX_TEXT",
    "REOPENABLE",
    "STEP_FIELDS",
    "build_case",
    "care_settings_update",
    "case_assign",
    "case_comment",
    "case_open",
    "case_reopen",
    "case_step",
    "clean_choice",
    "clean_keywords",
    "clean_text",
    "community_keywords_set",
    "default_assignees",
    "may_handle",
    "may_open_cases",
    "open_complaint",
    "privacy_sections",
    "require_case",
    "settings_for",
    "step_order",
]
