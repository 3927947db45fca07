"""Factories shared by the tests and by `seed_demo`."""

import datetime as dt

import factory
from django.utils import timezone

from appointments import models
from centers.models import Center, Location
from patients.models import Patient
from results.models import MedicalResult, ResultStatus


class CenterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Center
        django_get_or_create = ("lid",)

    lid = factory.Sequence(lambda n: f"C{n + 1}")
    name = factory.Sequence(lambda n: f"Centro Médico {n + 1}")
    description = "Consultas externas y diagnóstico"
    address = factory.Faker("address", locale="es_ES")
    phone = factory.Faker("phone_number", locale="es_ES")
    website = "https://hospital.example.org"
    time_zone = "Europe/Madrid"
    web_enabled = True


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location
        django_get_or_create = ("lid",)

    lid = factory.Sequence(lambda n: f"L{n + 1}")
    name = factory.Sequence(lambda n: f"Planta {n + 1}")
    center = factory.SubFactory(CenterFactory)


class ResourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Resource
        django_get_or_create = ("lid",)

    lid = factory.Sequence(lambda n: f"D{n + 1}")
    first_name = factory.Faker("first_name", locale="es_ES")
    second_name = factory.Faker("last_name", locale="es_ES")
    mobile_phone = factory.Faker("phone_number", locale="es_ES")
    email = factory.LazyAttribute(lambda o: f"{o.lid.lower()}@hospital.example.org")
    location = factory.SubFactory(LocationFactory)
    web_enabled = True
    availabilities_step = None


class ActivityGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.ActivityGroup
        django_get_or_create = ("lid",)

    lid = factory.Sequence(lambda n: f"G{n + 1}")
    name = factory.Sequence(lambda n: f"Especialidad {n + 1}")


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Activity
        django_get_or_create = ("lid",)

    lid = factory.Sequence(lambda n: f"ACT{n + 1}")
    name = factory.Sequence(lambda n: f"Consulta {n + 1}")
    group = factory.SubFactory(ActivityGroupFactory)
    duration = 15
    price = factory.Faker("pydecimal", left_digits=3, right_digits=2, positive=True, min_value=20, max_value=200)
    web_enabled = True


class InsuranceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Insurance
        django_get_or_create = ("lid",)

    lid = factory.Sequence(lambda n: f"INS{n + 1}")
    name = factory.Sequence(lambda n: f"Aseguradora {n + 1}")
    web_enabled = True


class ResourceActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.ResourceActivity
        django_get_or_create = ("resource", "activity")

    resource = factory.SubFactory(ResourceFactory)
    activity = factory.SubFactory(ActivityFactory)
    duration = None
    price = None


class InsuranceActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.InsuranceActivity
        django_get_or_create = ("insurance", "activity")

    insurance = factory.SubFactory(InsuranceFactory)
    activity = factory.SubFactory(ActivityFactory)
    price = None


class InsuranceResourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.InsuranceResource
        django_get_or_create = ("insurance", "resource")

    insurance = factory.SubFactory(InsuranceFactory)
    resource = factory.SubFactory(ResourceFactory)


class AvailabilityRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.AvailabilityRule
        django_get_or_create = ("lid",)
        # The hook below only sets the many-to-many activities: nothing left to save afterwards.
        skip_postgeneration_save = True

    lid = factory.Sequence(lambda n: f"R{n + 1}")
    resource = factory.SubFactory(ResourceFactory)
    weekday = models.Weekday.MONDAY
    start_time = dt.time(9, 0)
    end_time = dt.time(13, 0)
    valid_from = None
    valid_to = None

    @factory.post_generation
    def activities(self, create, extracted, **kwargs):
        if create and extracted:
            self.activities.set(extracted)


class AbsenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Absence

    resource = factory.SubFactory(ResourceFactory)
    center = None
    start = factory.LazyFunction(timezone.now)
    end = factory.LazyAttribute(lambda o: o.start + dt.timedelta(days=1))
    reason = "Vacaciones"


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    lid = factory.Sequence(lambda n: f"P{n + 1}")
    first_name = factory.Faker("first_name", locale="es_ES")
    second_name = factory.Faker("last_name", locale="es_ES")
    third_name = factory.Faker("last_name", locale="es_ES")
    id_number = factory.Sequence(lambda n: f"{n + 10000000:08d}{'TRWAGMYFPDXBNJZSQVHLCKE'[(n + 10000000) % 23]}")
    mobile_phone = factory.Sequence(lambda n: f"+34 6{n % 100000000:08d}")
    email = factory.Sequence(lambda n: f"paciente{n + 1}@correo.example")
    date_of_birth = factory.Faker("date_of_birth", minimum_age=1, maximum_age=95)
    gender = factory.Iterator(["F", "M"])
    zip_code = factory.Faker("postcode", locale="es_ES")
    language = "es"
    privacy_accepted = True


class AppointmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Appointment

    lid = None
    resource = factory.SubFactory(ResourceFactory)
    activity = factory.SubFactory(ActivityFactory)
    location = factory.LazyAttribute(lambda o: o.resource.location)
    patient = factory.SubFactory(PatientFactory)
    start = factory.LazyFunction(
        lambda: (timezone.now() + dt.timedelta(days=3)).replace(hour=9, minute=0, second=0, microsecond=0)
    )
    end = factory.LazyAttribute(lambda o: o.start + dt.timedelta(minutes=o.activity.duration))
    status = models.AppointmentStatus.APPROVED
    origin = models.Origin.DESK


class MedicalResultFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MedicalResult
        django_get_or_create = ("lid",)

    lid = factory.Sequence(lambda n: f"RES{n + 1}")
    code = factory.Sequence(lambda n: f"{n + 1:06d}")
    filename = factory.LazyAttribute(lambda o: f"{o.lid}.pdf")
    file_type = "pdf"
    patient = factory.SubFactory(PatientFactory)
    center = None
    status = ResultStatus.VALID
    file = factory.django.FileField(filename="result.pdf", data=b"%PDF-1.4\n% demo result\n%%EOF\n")
