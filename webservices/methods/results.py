"""getTestResultsList and getTestResultContent on the wire (guide C.2)."""

from patients.selectors import linked_tid
from results.models import MedicalResult, ResultStatus
from results.selectors import result_delivery, results_for_patient
from webservices.registry import Answer, Call, Content, Kind, Method, Param, register


def status_of(result: MedicalResult) -> str:
    return "Valid" if result.status == ResultStatus.VALID else "Cancelled"


def list_test_results(call: Call) -> Answer:
    patient = call.patient(required=True)
    tid = linked_tid(patient=patient, scope=call.scope)
    results = results_for_patient(patient=patient, since=call["RESULT_START_DATE"], centers=call.centers)
    return Answer(
        [
            {
                "DOWNLOAD_LID": result.lid,
                "STATUS": status_of(result),
                "DOWNLOAD_CODE": result.code,
                "DOWNLOAD_FILENAME": result.filename,
                "DOWNLOAD_TYPE": result.file_type,
                # The patient asked about: results of records merged into it are theirs now.
                "USER_LID": patient.lid,
                "USER_TID": tid,
                "USER_MOBILE_PHONE": patient.mobile_phone or None,
                "USER_EMAIL": patient.email or None,
                "USER_ID_NUMBER": patient.id_number or None,
            }
            for result in results
        ],
        ids={"USER_LID": patient.lid},
    )


GET_TEST_RESULTS_LIST = register(
    Method(
        name="getTestResultsList",
        summary="The patient's results from RESULT_START_DATE (default: 7 days ago); withdrawn ones are listed "
        "as Cancelled (guide C.2.1).",
        params=(
            Param("USER_LID", doc="Under the lid pattern."),
            Param("USER_TID", doc="Under the tid pattern."),
            Param("RESULT_START_DATE", Kind.DATE, doc="Default: 7 days ago."),
        ),
        fields=(
            "DOWNLOAD_LID",
            "STATUS",
            "DOWNLOAD_CODE",
            "DOWNLOAD_FILENAME",
            "DOWNLOAD_TYPE",
            "USER_LID",
            "USER_TID",
            "USER_MOBILE_PHONE",
            "USER_EMAIL",
            "USER_ID_NUMBER",
        ),  # fmt: skip
        handler=list_test_results,
        many=True,
        record_name="TestResult",
    )
)


def result_content(call: Call) -> Answer:
    delivery = result_delivery(lid=call["DOWNLOAD_LID"], centers=call.centers)
    result = delivery.result
    answer = {
        "DOWNLOAD_LID": result.lid,
        "DOWNLOAD_CONTENT": Content(delivery.content, result.size) if delivery.is_valid else None,
        "STATUS": status_of(result),
        "ERROR_MESSAGE": delivery.withheld,
    }
    return Answer(answer, ids={"DOWNLOAD_LID": result.lid, "USER_LID": result.patient.lid})


GET_TEST_RESULT_CONTENT = register(
    Method(
        name="getTestResultContent",
        summary="The content of one result, base64 (guide C.2.2). A withdrawn result: STATUS Cancelled, no "
        "content, and a message.",
        params=(Param("DOWNLOAD_LID", required=True),),
        fields=("DOWNLOAD_LID", "DOWNLOAD_CONTENT", "STATUS", "ERROR_MESSAGE"),
        binary_fields=("DOWNLOAD_CONTENT",),
        handler=result_content,
        record_name="TestResultContent",
    )
)
