"""Managers for tenant-owned models: scoped by the organization, failing closed."""

from django.contrib.auth.base_user import BaseUserManager
from django.db import models

from .scope import TenantScopeError, current_org


class TenantQuerySet(models.QuerySet):
    pass


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    """`Model.objects` for tenant data.

    - `Model.objects.for_org(org)`: the explicit way in.
    - `Model.objects.all()` etc.: scoped to the organization in scope; raises without one.
    - Related managers (`community.memberships`) are scoped by their parent's organization;
      through a non-tenant parent (`user.org_memberships`) they need the scope like the rest.
    - `Model.objects.unscoped()`: every organization's rows. Rare, and reviewed by grep.
    """

    def get_queryset(self):
        qs = super().get_queryset()
        # Related managers (`community.memberships`) carry their parent: scope by its org.
        parent_org_id = _organization_id_of(getattr(self, "instance", None))
        if parent_org_id is not None:
            return qs.filter(organization_id=parent_org_id)
        org = current_org()
        if org is None:
            raise TenantScopeError(
                f"{self.model.__name__} queried with no organization in scope; "
                "use .for_org(org) or tenancy.scope.org_scope(org)."
            )
        return qs.filter(organization=org)

    def for_org(self, org):
        if org is None:
            raise TenantScopeError(f"{self.model.__name__}.objects.for_org(None)")
        return super().get_queryset().filter(organization=org)

    def unscoped(self):
        return super().get_queryset()

    def none(self):
        """An empty queryset leaks nothing, so it needs no scope (schema generation uses it)."""
        return super().get_queryset().none()

    def create(self, **kwargs):
        """Creating needs no scope: the organization is given explicitly, and must be."""
        if kwargs.get("organization") is None and kwargs.get("organization_id") is None:
            raise TenantScopeError(f"{self.model.__name__} created without an organization")
        return super().get_queryset().create(**kwargs)

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)  # a generator would be spent by the check below
        if any(obj.organization_id is None for obj in objs):
            raise TenantScopeError(f"{self.model.__name__} bulk-created without an organization")
        return super().get_queryset().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs, fields, *args, **kwargs):
        """Updating known rows needs no scope; the update is still confined to their orgs."""
        objs = list(objs)
        org_ids = {obj.organization_id for obj in objs}
        if None in org_ids:
            raise TenantScopeError(f"{self.model.__name__} bulk-updated without an organization")
        qs = super().get_queryset().filter(organization_id__in=org_ids)
        return qs.bulk_update(objs, fields, *args, **kwargs)


def _organization_id_of(instance):
    """The organization a related manager's parent belongs to (None if it is not a tenant row:
    then the manager falls back to the scope, e.g. `user.org_memberships`)."""
    from .models import Organization  # models import their managers from here

    if isinstance(instance, Organization):
        return instance.pk
    return getattr(instance, "organization_id", None)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username):
        return self.get(email=(username or "").strip().lower())
