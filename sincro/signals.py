"""Keeps TT_AVAILABILITIES (the intervals) and the time-zone offsets in step with the domain: whatever
changes a doctor's rules, absences, holidays, activities or step rebuilds that doctor's intervals in
the same transaction. Writes in bulk send no signals: the worker catches those (the catalogue version moves)."""

from django.db.models.signals import m2m_changed, post_delete, post_save

from appointments.models import Absence, Activity, AvailabilityRule, Resource, ResourceActivity
from centers.models import Center
from sincro import intervals, zones


def _rule_changed(sender, instance: AvailabilityRule, **kwargs):
    intervals.rebuild(resource_ids=[instance.resource_id])


def _rule_activities_changed(sender, instance, action: str, **kwargs):
    if action.startswith("post_") and isinstance(instance, AvailabilityRule):
        intervals.rebuild(resource_ids=[instance.resource_id])


def _absence_changed(sender, instance: Absence, **kwargs):
    if instance.resource_id:
        intervals.rebuild(resource_ids=[instance.resource_id])
    elif instance.center_id:
        intervals.rebuild(resource_ids=intervals.resources_of_center(instance.center_id))


def _offer_changed(sender, instance: ResourceActivity, **kwargs):
    if Resource.objects.filter(pk=instance.resource_id).exists():
        intervals.rebuild(resource_ids=[instance.resource_id])


def _resource_changed(sender, instance: Resource, **kwargs):
    intervals.rebuild(resource_ids=[instance.pk])


def _activity_changed(sender, instance: Activity, **kwargs):
    intervals.rebuild(resource_ids=intervals.resources_offering(instance))


def _center_changed(sender, instance: Center, **kwargs):
    zones.ensure(instance.time_zone)
    intervals.rebuild(resource_ids=intervals.resources_of_center(instance))


def connect() -> None:
    uid = "sincro-intervals"
    post_save.connect(_rule_changed, sender=AvailabilityRule, dispatch_uid=f"{uid}-rule")
    post_delete.connect(_rule_changed, sender=AvailabilityRule, dispatch_uid=f"{uid}-rule-delete")
    m2m_changed.connect(_rule_activities_changed, sender=AvailabilityRule.activities.through, dispatch_uid=uid)
    post_save.connect(_absence_changed, sender=Absence, dispatch_uid=f"{uid}-absence")
    post_delete.connect(_absence_changed, sender=Absence, dispatch_uid=f"{uid}-absence-delete")
    post_save.connect(_offer_changed, sender=ResourceActivity, dispatch_uid=f"{uid}-offer")
    post_delete.connect(_offer_changed, sender=ResourceActivity, dispatch_uid=f"{uid}-offer-delete")
    post_save.connect(_resource_changed, sender=Resource, dispatch_uid=f"{uid}-resource")
    post_save.connect(_activity_changed, sender=Activity, dispatch_uid=f"{uid}-activity")
    post_save.connect(_center_changed, sender=Center, dispatch_uid=f"{uid}-center")
