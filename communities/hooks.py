"""Points where apps above communities take part in its pages (see core.hooks)."""

from core.hooks import Hook

# community_page_panels(org, community) -> {template context key: value}: what other apps show
# on a group's page (members: this week's leaderboard).
community_page_panels = Hook("community_page_panels")

# activity_heatmap(org, community, weeks) -> 7 × 24 grid of messages per hour of the week, from
# the metric rollups; the content calendar suggests a posting slot from it.
activity_heatmap = Hook("activity_heatmap")
