"""Accounts people can recover: an email address counts only once its owner opened the link we
sent to it. The link carries the address, signed and dated, so nothing is stored until then and
notifications (which go to `user.email`) only ever reach a verified address."""

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.urls import reverse
from django.utils.translation import gettext as _

from mutualaid import pagecache

SALT = "members.verify-email"
LINK_DAYS = 3


def send_verification(request, user, email: str):
    """Mail `email` a link that makes it the account's address."""
    token = signing.TimestampSigner(salt=SALT).sign_object({"user": user.pk, "email": email})
    link = request.build_absolute_uri(reverse("verify-email", args=[token]))
    send_mail(
        _("Confirm your email address for mutualaid"),
        _(
            "Open this link within %(days)s days to use %(email)s for your mutualaid account "
            "(%(username)s):\n\n%(link)s\n\nIf you did not ask for this, ignore this message."
        )
        % {"days": LINK_DAYS, "email": email, "username": user.get_username(), "link": link},
        None,
        [email],
    )


def verify(user, token: str) -> str:
    """Make the address in the link the account's own; returns it, or says why not."""
    try:
        data = signing.TimestampSigner(salt=SALT).unsign_object(
            token, max_age=LINK_DAYS * 24 * 3600
        )
    except signing.SignatureExpired:
        raise ValidationError(_("This link has expired: ask for a new one.")) from None
    except signing.BadSignature:
        raise ValidationError(_("This link is not valid.")) from None
    if data.get("user") != user.pk:
        raise ValidationError(_("This link is for another account."))
    user.email = data["email"]
    user.save(update_fields=["email"])
    pagecache.bump(pagecache.member(user.pk))  # the dashboard shows the address
    return user.email
