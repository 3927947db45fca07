import factory

from centers.models import Center, Location


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
