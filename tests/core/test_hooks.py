from core.hooks import Hook


def test_receivers_run_in_order_once_each():
    hook = Hook("demo")
    calls = []

    def first(**kwargs):
        calls.append(("first", kwargs))
        return 1

    def second(**kwargs):
        calls.append(("second", kwargs))
        return 2

    hook.register(first)
    hook.register(second)
    hook.register(first)  # registering twice (ready() run again) changes nothing
    assert hook(org=7) == [1, 2]
    assert calls == [("first", {"org": 7}), ("second", {"org": 7})]


def test_the_products_hooks_are_filled_at_start_up():
    """Each lower app's hook has the receivers its higher apps register in ready()."""
    from communities import hooks as community_hooks
    from integrations import outbox
    from members import hooks as member_hooks
    from tenancy import hooks as tenancy_hooks

    for hook in (
        tenancy_hooks.dashboard_panels,
        tenancy_hooks.time_zone_changed,
        tenancy_hooks.community_roles,
        outbox.action_finished,
        community_hooks.community_page_panels,
        community_hooks.activity_heatmap,
        member_hooks.member_merged,
        member_hooks.privacy_sections,
        member_hooks.tier_stats,
    ):
        assert hook._receivers, hook
