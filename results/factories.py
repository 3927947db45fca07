import factory

from appointments.factories import PatientFactory
from results.models import MedicalResult, ResultStatus


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
