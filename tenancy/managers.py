"""Managers for tenant-owned models: scoped by the organization, failing closed."""

from django.contrib.auth.base_user import BaseUserManager
from django.db import models
from django.db.models.options import Options
from django.utils.functional import cached_property

from .rls import org_hint
from .scope import TenantScopeError, current_org


def _named(qs, organization_id):
    """The queryset names its organization to row-level security (tenancy/rls.py: a query run
    outside a scope sees that organization's rows and no other's)."""
    qs.query.rls_org_id = organization_id
    return qs


class TenantQuerySet(models.QuerySet):
    def delete(self):
        # Django's collector deletes (and looks up related rows) with queries of its own
        with org_hint(getattr(self.query, "rls_org_id", None)):
            return super().delete()

    delete.alters_data = True
    delete.queryset_only = True


class TenantBaseManager(models.Manager):
    """The base manager of tenant models (foreign-key access, `save()`'s update, reloads):
    no filtering, as Django requires, but the organization of the row it is reached from, if
    any, named to row-level security."""

    def get_queryset(self):
        qs = super().get_queryset()
        instance = self._hints.get("instance")
        organization_id = getattr(instance, "organization_id", None)
        return qs if organization_id is None else _named(qs, organization_id)


class TenantOptions(Options):
    @cached_property
    def base_manager(self):
        if self.base_manager_name:
            return super().base_manager
        manager = TenantBaseManager()
        manager.name = "_base_manager"
        manager.model = self.model
        manager.auto_created = True
        return manager


def tenant_options(options: Options) -> None:
    """Give a tenant model's `_meta` the base manager above (tenancy/models.py)."""
    options.__class__ = TenantOptions
    options.__dict__.pop("base_manager", None)


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
            return _named(qs.filter(organization_id=parent_org_id), parent_org_id)
        org = current_org()
        if org is None:
            raise TenantScopeError(
                f"{self.model.__name__} queried with no organization in scope; "
                "use .for_org(org) or tenancy.scope.org_scope(org)."
            )
        return _named(qs.filter(organization=org), org.pk)

    def for_org(self, org):
        if org is None:
            raise TenantScopeError(f"{self.model.__name__}.objects.for_org(None)")
        return _named(super().get_queryset().filter(organization=org), getattr(org, "pk", org))

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
        with org_hint(next(iter(org_ids)) if len(org_ids) == 1 else None):
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
