"""Patients of the hospital, with the keys that matching a newcomer uses and the merges the desk makes."""

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from clients.models import IntegrationClient
from core.models import ExternalIdMixin


def normalise_name(*parts: str) -> str:
    """Lower case, no accents, single spaces: 'José  MARÍA' -> 'jose maria'."""
    text = " ".join(p for p in parts if p)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def normalise_id_number(value: str) -> str:
    """Upper case, without spaces, dashes or dots: '12.345.678-z' -> '12345678Z'."""
    return re.sub(r"[\s.\-]+", "", value or "").upper()


def normalise_phone(value: str) -> str:
    """Digits only, without an international 00/+ prefix of 34 or 39: '+34 600-11 22 33' -> '600112233'."""
    digits = re.sub(r"\D", "", value or "")
    for prefix in ("0034", "0039", "34", "39"):
        if digits.startswith(prefix) and len(digits) - len(prefix) >= 9:
            return digits[len(prefix) :]
    return digits


@dataclass(frozen=True)
class PatientData:
    """What a caller says about a patient it books for (all optional), already parsed."""

    lid: str | None = None
    tid: str | None = None
    first_name: str = ""
    second_name: str = ""
    third_name: str = ""
    gender: str = ""  # M or F (any letter case, or a word starting with one), or empty
    date_of_birth: dt.date | None = None
    mobile_phone: str = ""
    landline_phone: str = ""
    email: str = ""
    id_number: str = ""

    @property
    def name_key(self) -> str:
        return normalise_name(self.first_name, self.second_name, self.third_name)


class Gender(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class Patient(ExternalIdMixin):
    """A patient of the hospital. `merged_into` points to the record that replaced this one."""

    LID_PREFIX = "P"

    lid = models.CharField(
        _("patient no."),
        max_length=50,
        unique=True,
        null=True,
        blank=True,
        help_text=_("Empty: the server gives one. USER_LID in tuOtempO."),
    )
    first_name = models.CharField(_("first name"), max_length=50, blank=True)
    second_name = models.CharField(_("first surname"), max_length=50, blank=True)
    third_name = models.CharField(_("second surname"), max_length=50, blank=True)
    id_number = models.CharField(_("ID number"), max_length=50, blank=True)
    landline_phone = models.CharField(_("landline"), max_length=50, blank=True)
    mobile_phone = models.CharField(_("mobile phone"), max_length=50, blank=True)
    work_phone = models.CharField(_("work phone"), max_length=50, blank=True)
    email = models.EmailField(_("e-mail"), max_length=100, blank=True)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    gender = models.CharField(_("sex"), max_length=1, choices=Gender.choices, blank=True)
    zip_code = models.CharField(_("postcode"), max_length=10, blank=True)
    language = models.CharField(_("language"), max_length=10, blank=True)
    privacy_accepted = models.BooleanField(_("privacy terms accepted"), default=False)
    contact_by_sms = models.BooleanField(_("reminders by SMS"), default=True)
    contact_by_email = models.BooleanField(_("reminders by e-mail"), default=True)
    contact_by_landline = models.BooleanField(_("reminders by landline"), default=False)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_patients",
    )
    # Derived on save (derive_keys), for matching a patient who books without a known id.
    name_key = models.CharField(max_length=160, blank=True, editable=False)
    id_key = models.CharField(max_length=50, blank=True, editable=False, db_index=True)
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "appointments_patient"  # its table since the first release, when it lived in appointments
        ordering = ["lid"]
        verbose_name = _("patient")
        verbose_name_plural = _("patients")
        indexes = [models.Index(fields=["name_key", "date_of_birth"], name="patient_name_dob")]
        constraints = [
            models.CheckConstraint(condition=~Q(merged_into=F("id")), name="patient_not_merged_into_itself"),
            models.CheckConstraint(condition=Q(gender__in=["", "M", "F"]), name="patient_gender_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.lid})"

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.second_name, self.third_name) if p)

    @property
    def communication_preferences(self) -> str:
        """The guide's bytewise string: SMS, email, landline ('101')."""
        return "".join(
            "1" if flag else "0" for flag in (self.contact_by_sms, self.contact_by_email, self.contact_by_landline)
        )

    def derive_keys(self) -> None:
        """Sets the matching keys from the names and ID number; bulk inserts must call it themselves."""
        self.name_key = normalise_name(self.first_name, self.second_name, self.third_name)
        self.id_key = normalise_id_number(self.id_number)

    def save(self, *args, **kwargs):
        self.derive_keys()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            derived = {"name_key"} if {"first_name", "second_name", "third_name"} & set(update_fields) else set()
            derived |= {"id_key"} if "id_number" in update_fields else set()
            kwargs["update_fields"] = set(update_fields) | derived
        return super().save(*args, **kwargs)


class PatientLink(models.Model):
    """A tuOtempO instance's own id for a patient (USER_TID). Each instance numbers its users itself, so
    an id means something only together with the integration client that sent it."""

    client = models.ForeignKey(IntegrationClient, on_delete=models.CASCADE, related_name="patient_links")
    tid = models.CharField(_("patient no. in tuOtempO"), max_length=50, help_text=_("USER_TID in tuOtempO."))
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="links")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("patient no. in tuOtempO")
        verbose_name_plural = _("patient numbers in tuOtempO")
        constraints = [
            models.UniqueConstraint(fields=["client", "tid"], name="patient_link_tid_per_client"),
            # One account of an instance per patient record: a second id of the same client registers a new
            # record, which the desk may merge.
            models.UniqueConstraint(fields=["client", "patient"], name="patient_link_one_per_client"),
        ]

    def __str__(self) -> str:
        return f"{self.client}: {self.tid}"


class DuplicateStatus(models.TextChoices):
    OPEN = "OPEN", "to review"
    MERGED = "MERGED", "merged"
    DISMISSED = "DISMISSED", "not the same person"


class PossibleDuplicate(models.Model):
    """Two records that may be one person, left apart because matching could not decide (a probable match
    outside the caller's centers, or several): for the desk to compare, then merge or dismiss."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="possible_duplicates")
    other = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=DuplicateStatus.choices, default=DuplicateStatus.OPEN)
    created = models.DateTimeField(auto_now_add=True)
    decided = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "other"], name="possible_duplicate_pair"),
            models.CheckConstraint(condition=~Q(patient=F("other")), name="possible_duplicate_two_records"),
            models.CheckConstraint(condition=Q(status__in=DuplicateStatus.values), name="possible_duplicate_status"),
        ]
        indexes = [models.Index(fields=["status", "created"], name="possible_duplicate_to_review")]

    def __str__(self) -> str:
        return f"{self.patient.lid} ~ {self.other.lid}"
