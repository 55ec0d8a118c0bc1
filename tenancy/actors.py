"""Who is acting: a dashboard user, an API key, or the system (tasks, ops commands)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from . import hooks


@dataclass
class Actor:
    organization: object
    role: str
    user: object | None = None
    api_key: object | None = None
    system_label: str = ""
    member: object | None = None  # a member acting for themself, on their own pages
    _community_roles: dict | None = field(default=None, repr=False)

    @classmethod
    def for_user(cls, membership) -> Actor:
        return cls(organization=membership.organization, role=membership.role, user=membership.user)

    @classmethod
    def for_api_key(cls, api_key) -> Actor:
        return cls(organization=api_key.organization, role=api_key.role, api_key=api_key)

    @classmethod
    def system(cls, organization, label: str = "") -> Actor:
        """A job or command acting on its own: `label` says which, in words a person reads
        in the audit log (translated where it is written)."""
        return cls(organization=organization, role="system", system_label=label)

    @classmethod
    def for_member(cls, member) -> Actor:
        """A member on their own pages: may act only for themself (`permissions.require_for`)."""
        return cls(organization=member.organization, role="member", member=member)

    @property
    def is_system(self) -> bool:
        return self.role == "system"

    @property
    def label(self) -> str:
        if self.user is not None:
            return self.user.email
        if self.api_key is not None:
            return _("API key %(name)s (%(prefix)s…)") % {
                "name": self.api_key.name,
                "prefix": self.api_key.prefix,
            }
        if self.member is not None:
            return _("member %(name)s, on their own page") % {"name": self.member}
        return self.system_label or _("system")

    def community_roles_ids(self) -> set:
        """The communities in which this actor holds any role."""
        if self._community_roles is None:
            self._community_roles = load_community_roles(self)
        return set(self._community_roles)

    def community_roles(self, community_id) -> set[str]:
        """Community roles this actor holds in one community (staff assignments)."""
        if self._community_roles is None:
            self._community_roles = load_community_roles(self)
        return self._community_roles.get(community_id, set())


def load_community_roles(actor: Actor) -> dict:
    """{community_id: {role, ...}}: the actor's current staff assignments (one query, by the
    communities app through `hooks.community_roles`)."""
    if actor.user is None:
        return {}
    roles: dict = {}
    for found in hooks.community_roles(actor=actor):
        for community_id, names in found.items():
            roles.setdefault(community_id, set()).update(names)
    return roles
