import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

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

    lid = models.CharField("CENTER_LID", max_length=50, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    address = models.CharField(max_length=255, blank=True)
    phone = models.CharField(max_length=50, blank=True)
    website = models.URLField(blank=True)
    time_zone = models.CharField(max_length=64, default=default_time_zone, validators=[validate_time_zone])
    web_enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["lid"]

    def __str__(self) -> str:
        return f"{self.name} ({self.lid})"

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class Location(models.Model):
    """A place inside a center where resources work (a building, a floor, a practice)."""

    lid = models.CharField("LOCATION_LID", max_length=50, unique=True)
    name = models.CharField(max_length=100, validators=[GUIDE_NAME_LENGTH])
    center = models.ForeignKey(Center, on_delete=models.PROTECT, related_name="locations")

    class Meta:
        ordering = ["lid"]

    def __str__(self) -> str:
        return f"{self.name} ({self.lid})"
