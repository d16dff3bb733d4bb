"""Catalog models: a ccTLD, its name servers, and the regional organisations it belongs to."""

from __future__ import annotations

import phonenumbers
from django.db import models
from django.utils.translation import gettext_lazy as _


class Region(models.Model):
    """A regional ccTLD organisation (AFTLD, APTLD, CENTR, LACTLD) the committee can tag ccTLDs with."""

    code = models.SlugField(max_length=16, unique=True)
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code.upper()


class TldQuerySet(models.QuerySet):
    def delegated(self) -> TldQuerySet:
        return self.filter(delegated=True)


class Tld(models.Model):
    """One country-code TLD, ASCII (``fr``) or IDN (``xn--p1ai``), as IANA knows it.

    ``alabel`` is the key everyone uses; retired ccTLDs stay in the table with ``delegated=False`` so
    that history (memberships, audit) keeps pointing at something.
    """

    class Kind(models.TextChoices):
        ASCII = "ascii", _("ASCII")
        IDN = "idn", _("IDN")

    alabel = models.CharField(_("A-label"), max_length=63, unique=True)
    ulabel = models.CharField(_("U-label"), max_length=63)
    kind = models.CharField(max_length=5, choices=Kind.choices)
    iso_code = models.CharField(
        _("ISO 3166 code"),
        max_length=2,
        blank=True,
        db_index=True,
        help_text=_("The officially assigned ISO 3166-1 alpha-2 code (GB for .uk, SH for .ac)"),
    )
    reserved_code = models.CharField(
        _("reserved ISO 3166 code"),
        max_length=2,
        blank=True,
        help_text=_("The exceptionally reserved code the ccTLD is named after (UK, AC, EU, SU)"),
    )
    country_name = models.CharField(max_length=200, blank=True)
    script = models.CharField(
        max_length=100, blank=True, help_text=_("Script or language of an IDN ccTLD")
    )
    manager = models.CharField(max_length=300, blank=True)
    admin_org = models.CharField(
        _("administrative contact organisation"), max_length=300, blank=True
    )
    admin_email = models.EmailField(_("administrative contact email"), blank=True)
    tech_org = models.CharField(_("technical contact organisation"), max_length=300, blank=True)
    tech_email = models.EmailField(_("technical contact email"), blank=True)
    #: Contact fields set by hand (``tldops.catalog.editing``), which a sync keeps:
    #: ``{field: {"by": actor, "at": ISO time, "source": "hand"|"csv", "iana": last IANA value}}``.
    hand_set = models.JSONField(default=dict, blank=True)
    has_ds = models.BooleanField(_("DS in root"), null=True, help_text=_("Unknown until synced"))
    delegated = models.BooleanField(default=True, db_index=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    regions = models.ManyToManyField(Region, blank=True, related_name="tlds")
    synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TldQuerySet.as_manager()

    class Meta:
        ordering = ["alabel"]
        verbose_name = "ccTLD"
        verbose_name_plural = "ccTLDs"

    def __str__(self) -> str:
        return f".{self.alabel}"

    @property
    def phone_region(self) -> str:
        """The region a phone number written without ``+`` is read in: the assigned ISO code,
        except where the numbering plan follows the reserved one (``.ac``: Ascension dials +247,
        not Saint Helena's +290; libphonenumber knows it as region AC)."""
        return phone_region(self.iso_code, self.reserved_code)

    @property
    def display(self) -> str:
        """``.fr`` or ``.рф (xn--p1ai)``: what people read, with the A-label when they differ."""
        if self.ulabel != self.alabel:
            return f".{self.ulabel} ({self.alabel})"
        return f".{self.alabel}"


def phone_region(iso_code: str, reserved_code: str = "") -> str:
    """:attr:`Tld.phone_region` from the two codes (for queries that fetch only the codes)."""
    if reserved_code and reserved_code in phonenumbers.SUPPORTED_REGIONS:
        return reserved_code
    return iso_code


class NameServer(models.Model):
    """A name server of a ccTLD as delegated in the root, with its glue addresses."""

    tld = models.ForeignKey(Tld, on_delete=models.CASCADE, related_name="nameservers")
    hostname = models.CharField(max_length=253)
    ipv4 = models.JSONField(default=list, blank=True)
    ipv6 = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["tld", "hostname"]
        constraints = [
            models.UniqueConstraint(fields=["tld", "hostname"], name="uniq_ns_per_tld"),
        ]

    def __str__(self) -> str:
        return self.hostname
