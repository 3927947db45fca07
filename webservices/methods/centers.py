"""GetCenters on the wire (guide B.3)."""

from centers.selectors import centers_in_scope
from webservices.registry import Answer, Call, Method, register


def get_centers(call: Call) -> Answer:
    return Answer(
        [
            {
                "CENTER_LID": c.lid,
                "CENTER_NAME": c.name,
                "DESCRIPTION": c.description or None,
                "ADDRESS": c.address or None,
                "PHONE": c.phone or None,
                "WEBSITE_URL": c.website or None,
            }
            for c in centers_in_scope(centers=call.centers)
        ]
    )


GET_CENTERS = register(
    Method(
        name="GetCenters",
        summary="The centers this client may book in (guide B.3).",
        params=(),
        fields=("CENTER_LID", "CENTER_NAME", "DESCRIPTION", "ADDRESS", "PHONE", "WEBSITE_URL"),
        handler=get_centers,
        many=True,
        record_name="Center",
        takes_center=False,
    )
)
