"""The scheduling methods on the wire: KeyEntities (guide B.2.1.2) and the booking methods (B.2.2)."""

from appointments.selectors import key_entities
from his.wire import Answer, Call, Method, fmt_int, fmt_price, register

KEY_ENTITY_FIELDS = (
    "INSURANCE_LID", "INSURANCE_NAME", "ACTIVITY_GROUP_LID", "ACTIVITY_GROUP_NAME", "ACTIVITY_LID", "ACTIVITY_NAME",
    "ACTIVITY_PRICE", "ACTIVITY_DURATION", "LOCATION_LID", "LOCATION_NAME", "RESOURCE_LID", "RESOURCE_FIRST_NAME",
    "RESOURCE_SECOND_NAME",
)  # fmt: skip


def key_entities_answer(call: Call) -> Answer:
    rows = []
    for entity in key_entities(centers=call.centers):
        resource, activity, insurance = entity.resource, entity.activity, entity.insurance
        group, location = activity.group, resource.location
        rows.append({
            "INSURANCE_LID": insurance.lid if insurance else None,
            "INSURANCE_NAME": insurance.name if insurance else None,
            "ACTIVITY_GROUP_LID": group.lid if group else None,
            "ACTIVITY_GROUP_NAME": group.name if group else None,
            "ACTIVITY_LID": activity.lid,
            "ACTIVITY_NAME": activity.name,
            "ACTIVITY_PRICE": fmt_price(entity.price),
            "ACTIVITY_DURATION": fmt_int(entity.duration),
            "LOCATION_LID": location.lid,
            "LOCATION_NAME": location.name,
            "RESOURCE_LID": resource.lid,
            "RESOURCE_FIRST_NAME": resource.first_name,
            "RESOURCE_SECOND_NAME": resource.second_name,
        })  # fmt: skip
    return Answer(rows)


KEY_ENTITIES = register(
    Method(
        name="KeyEntities",
        summary="Every bookable (resource, activity) pair, self-pay and per accepted insurance, with price "
        "and duration (guide B.2.1.2).",
        params=(),
        fields=KEY_ENTITY_FIELDS,
        handler=key_entities_answer,
        many=True,
        record_name="KeyEntity",
    )
)
