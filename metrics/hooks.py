"""Points where apps above metrics take part in its pages (see core.hooks)."""

from core.hooks import Hook

# overview_panels(actor) -> {template context key: value}: shown on the metrics overview
# (teamwork: the goals' progress).
overview_panels = Hook("overview_panels")

# community_panels(actor, community) -> {template context key: value}: shown on one group's
# metrics page (teamwork: the group's goals).
community_panels = Hook("community_panels")
