"""Public statistics API (no credentials: aggregate counts, no personal data), mounted at ``/api/v1/statistics``.
Thin: parse the filter, read the figures, render."""
import re
from typing import Annotated, Literal

from ninja import Field, Query, Router, Schema
from ninja.errors import ValidationError
from pydantic import BeforeValidator

from egov.exchange.api_auth import problem_responses
from egov.monitoring import queries

router = Router(tags=["statistics"])


def _whole_number(value):
    """A query string carries text: "2" is the channel 2 (a Literal of ints never matches the text "2"). Anything
    else is left as it came, for the Literal to refuse by name."""
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,9}", value.strip()):
        return int(value)
    return value


# Documented as the enum [1, 2, 3] of integers; given in the query string as "1", "2" or "3".
Channel = Annotated[Literal[1, 2, 3], BeforeValidator(_whole_number)]
CHANNEL = Query(None, description="1 in person, 2 online, 3 public postal service.")


class Received(Schema):
    total: int = Field(..., description="New in the period plus carried over.")
    new: int = Field(..., description="Received (tiếp nhận) in the period.")
    carried_over: int = Field(..., description="Received earlier and still pending at the start of the period.")
    online: int = Field(..., description="New in the period through the online channel (2).")


class Processed(Schema):
    total: int
    early: int = Field(..., description="Trước hạn: ended on a day before the appointment day.")
    on_time: int = Field(..., description="Đúng hạn.")
    late: int = Field(..., description="Quá hạn: after the appointment, or more than one supplement request.")


class Pending(Schema):
    total: int
    within_deadline: int
    overdue: int
    as_of: Literal["period end", "now"] = Field(..., description="At the end of a past period; now for the "
                                                                 "current one.")


class Satisfaction(Schema):
    ratings: int
    average: float | None = Field(..., description="Average score (1 to 5); null without ratings.")


class Digitisation(Schema):
    reused: int = Field(..., description="New in the period and filed reusing digitised documents from the "
                                         "applicant's data store (tái sử dụng dữ liệu số hóa); its share of the new "
                                         "dossiers is percentages.reuse_share.")
    digitised: int = Field(..., description="New in the period with every required component held electronically "
                                            "(số hóa hồ sơ đầu vào); share: percentages.digitised_share.")
    results_digitised: int = Field(..., description="Processed in the period with the result issued "
                                                    "electronically (số hóa kết quả); share of the processed: "
                                                    "percentages.results_digitised_share.")


class ServiceStatistics(Schema):
    year: int
    month: int | None
    agency: str | None
    province: str | None
    procedure: str | None
    channel: int | None
    received: Received
    processed: Processed
    pending: Pending
    delivered: int = Field(..., description="Results returned (đã trả kết quả) in the period.")
    withdrawn: int
    stopped: int
    refused: int = Field(..., description="Not received (không được tiếp nhận).")
    satisfaction: Satisfaction
    digitisation: Digitisation
    percentages: dict[str, float | None] = Field(..., description="Shares in percent (one decimal), null when "
                                                                  "the whole is zero.")


@router.get("", response=ServiceStatistics, summary="Service statistics (thống kê giải quyết thủ tục hành chính)",
            openapi_extra={"responses": problem_responses(422)})
def statistics(
    request,
    year: int | None = Query(None, ge=2000, le=2100, description="Default: this year."),
    month: int | None = Query(None, ge=1, le=12, description="Without it: the whole year (the sum of its months)."),
    agency: str = Query("", max_length=13, description="Organisation code of the receiving agency.",
                        examples=["000.00.12.H29"]),
    province: str = Query("", max_length=3, description="Level-1 part of organisation codes, e.g. H29.",
                          examples=["H29"]),
    procedure: str = Query("", max_length=40, description="Procedure code.", examples=["1.000656"]),
    channel: Channel | None = CHANNEL,
):
    """Figures of one filter and period: received (new, carried over), processed (early, on time, late), pending
    (within the deadline, overdue), delivered, withdrawn, stopped, refused, online share, satisfaction, and the reuse
    of digitised documents."""
    try:
        f = queries.make_filter(year=year, month=month, agency=agency, province=province, procedure=procedure,
                                channel=channel)
    except queries.InvalidFilter as exc:
        raise ValidationError([{"loc": ("query", exc.field), "msg": exc.message, "type": "value_error"}]) from None
    return {"year": f.year, "month": f.month, "agency": f.agency or None, "province": f.province or None,
            "procedure": f.procedure or None, "channel": f.channel, **queries.figures(f).as_dict()}
