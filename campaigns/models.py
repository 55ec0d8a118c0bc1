"""Orders as the bots report them. Flash sales, group buys and lotteries (issue: campaigns)
build on these."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenancy.models import TenantModel


class OrderStatus(models.TextChoices):
    PLACED = "placed", _("Placed")
    REFUNDED = "refunded", _("Refunded")


class Order(TenantModel):
    external_order_id = models.CharField(_("order id"), max_length=128)
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="orders")
    community = models.ForeignKey(
        "communities.Community", on_delete=models.PROTECT, null=True, related_name="+"
    )
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    items = models.JSONField(_("items"), default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.PLACED
    )
    placed_at = models.DateTimeField(_("placed"), default=timezone.now)
    refunded_at = models.DateTimeField(_("refunded"), null=True, blank=True)
    points_awarded = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "external_order_id"], name="order_external_id_unique"
            )
        ]
        indexes = [models.Index(fields=["organization", "member", "placed_at"])]

    def __str__(self):
        return self.external_order_id
