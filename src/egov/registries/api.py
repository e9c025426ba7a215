"""Population registry API for client systems of other agencies: identity verification (xác thực) and data release
(eKYC). Mounted at ``/api/v1/population/``. Thin: parse, call one service, render; the services decide every right,
limit and log."""
from typing import Annotated, Any

from ninja import Field, Router, Schema

from egov.exchange.api_auth import MEDIATOR_PARAMETER, api_caller, problem_responses
from egov.kernel.api_fields import IsoDate, documented
from egov.registries import rules, services

router = Router(auth=api_caller, tags=["population"])

# What the services accept (rules.parse_personal_id; spaces inside are ignored): 12 digits, the first three the
# code of the province where the birth was registered.
PERSONAL_ID = documented(pattern="^(" + "|".join(sorted(rules.PIN_PROVINCE_CODES)) + ")[0-9]{9}$")
RELEASABLE = documented(items={"type": "string", "enum": list(services.RELEASABLE_FIELDS)})


class VerifyIn(Schema):
    personal_id_number: Annotated[str, PERSONAL_ID] = Field(..., max_length=20, examples=["079090001234"],
                                                            description="Số định danh cá nhân: 12 digits.")
    full_name: str = Field(..., max_length=150, description="Full name as the person gave it (case and spacing "
                                                             "are ignored; diacritics count).", examples=["Nguyễn Văn An"])
    date_of_birth: IsoDate = Field(..., description="ISO date.", examples=["1990-05-17"])


class VerifyOut(Schema):
    match: bool = Field(..., description="True when the number exists and the name and date of birth are that "
                                         "person's.")
    deceased: bool | None = Field(..., description="Whether the person has died; said only when all three match "
                                                   "(null otherwise).")


class ReleaseIn(Schema):
    personal_id_number: Annotated[str, PERSONAL_ID] = Field(..., max_length=20, examples=["079090001234"])
    purpose: Annotated[str, documented(pattern=r"\S")] = Field(
        ..., max_length=200, description="Why the data is needed: one of the purposes granted to your client system. "
                                         "Shown to the person in their access log.")
    fields: Annotated[list[str] | None, RELEASABLE] = Field(
        None, max_length=20, description="The fields wanted (default: every releasable field).",
        examples=[["full_name", "date_of_birth", "permanent_address"]])


class ReleaseOut(Schema):
    data: dict[str, Any] = Field(..., description="The requested fields, by name.")


@router.post("/verify", response=VerifyOut, operation_id="populationVerify",
             summary="Verify an identity (xác thực thông tin công dân)",
             openapi_extra={"parameters": [MEDIATOR_PARAMETER], "responses": problem_responses(401, 403, 422, 429)})
def verify(request, body: VerifyIn):
    """Xác thực: does this identification number belong to a person with this full name and date of birth?
    Answers yes or no, never the data. Needs the `population.verify` right; rate-limited per client system
    (429 with `Retry-After`). Every call is written to the ledger and shown to the person."""
    result = services.verify_person(caller=request.caller, personal_id_number=body.personal_id_number,
                                    full_name=body.full_name, date_of_birth=body.date_of_birth)
    return {"match": result.match, "deceased": result.deceased}


@router.post("/release", response=ReleaseOut, operation_id="populationRelease",
             summary="Release a person's data for a declared purpose (eKYC)",
             openapi_extra={"parameters": [MEDIATOR_PARAMETER],
                            "responses": problem_responses(401, 403, 404, 422)})
def release(request, body: ReleaseIn):
    """eKYC (định danh và xác thực điện tử): a person's data, for a purpose your client system's grant lists
    (`population.release`). An undeclared purpose is refused (403). The read, its purpose and the fields are shown
    to the person in their access log."""
    data = services.release_person(caller=request.caller, personal_id_number=body.personal_id_number,
                                   purpose=body.purpose, fields_wanted=body.fields)
    return {"data": data}
