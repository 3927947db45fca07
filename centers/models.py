import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import GUIDE_NAME_LENGTH


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"{value!r} is not an IANA time zone (e.g. Europe/Madrid).") from None


def default_time_zone() -> str:
    return settings.TIME_ZONE


class Center(models.Model):
    """A hospital or clinic; every date and time on the wire is in its own time zone."""

    lid = models.CharField(_("center code"), max_length=50, unique=True, help_text=_("CENTER_LID in tuOtempO."))
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    website = models.URLField(_("website"), blank=True)
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default=default_time_zone,
        validators=[validate_time_zone],
        help_text=_("Every time of the center is typed and shown on this wall clock (e.g. Atlantic/Canary)."),
    )
    web_enabled = models.BooleanField(_("bookable online"), default=True)

    class Meta:
        ordering = ["lid"]
        verbose_name = _("center")
        verbose_name_plural = _("centers")

    def __str__(self) -> str:
        return f"{self.name} ({self.lid})"

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class Location(models.Model):
    """A place inside a center where resources work (a building, a floor, a practice)."""

    lid = models.CharField(_("location code"), max_length=50, unique=True, help_text=_("LOCATION_LID in tuOtempO."))
    name = models.CharField(_("name"), max_length=100, validators=[GUIDE_NAME_LENGTH])
    center = models.ForeignKey(Center, verbose_name=_("center"), on_delete=models.PROTECT, related_name="locations")

    class Meta:
        ordering = ["lid"]
        verbose_name = _("location")
        verbose_name_plural = _("locations")

    def __str__(self) -> str:
        return f"{self.name} ({self.lid})"
