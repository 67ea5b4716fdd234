"""The payment-provider seam for wallet top-ups.

A real provider (Alipay, WeChat Pay, a bank) implements `collect`; this repository ships only
the sandbox, which takes no real money and records each payment.
"""

import secrets
from typing import Protocol

from django.db import models


class PaymentProvider(Protocol):
    name: str

    def collect(self, user, amount_cents: int) -> str:
        """Take the money from the member; return the provider's reference (raise on failure)."""


class SandboxPayment(models.Model):
    """What the sandbox provider 'collected' (no real money moves)."""

    user = models.ForeignKey("auth.User", on_delete=models.PROTECT, related_name="+")
    amount_cents = models.BigIntegerField()
    reference = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "members"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_cents__gt=0), name="sandbox_payment_positive"
            )
        ]

    def __str__(self):
        return f"sandbox {self.reference}: {self.amount_cents}"


class SandboxProvider:
    name = "sandbox"

    def collect(self, user, amount_cents: int) -> str:
        reference = f"sandbox-{secrets.token_hex(8)}"
        SandboxPayment.objects.create(user=user, amount_cents=amount_cents, reference=reference)
        return reference
