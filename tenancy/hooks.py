"""Points where apps above tenancy take part (see core.hooks); each app registers in its
AppConfig.ready."""

from core.hooks import Hook

# dashboard_panels(actor) -> {template context key: value}: what each app shows on the
# organization's home page. The lists under `today` (home.TodaySection), `figures`
# (home.Figure) and `alerts` (home.Alert) are joined across apps; see tenancy/home.py.
dashboard_panels = Hook("dashboard_panels")

# first_steps(actor) -> [home.Step]: the steps of a new organization's checklist an app can
# tell are done from its own data (a group exists, a bot's first event arrived).
first_steps = Hook("first_steps")

# time_zone_changed(org): the organization's local days moved (metrics rebuilds its rollups);
# called inside the settings change's transaction.
time_zone_changed = Hook("time_zone_changed")

# community_roles(actor) -> {community id: {role, …}}: the actor's current staff assignments
# (communities owns them); the permission checks read them through Actor.community_roles.
community_roles = Hook("community_roles")

# team_panels(actor) -> {template context key: value}: what apps above show on the team page
# (teamwork: each person's week against their duties, the monthly award winners).
team_panels = Hook("team_panels")
