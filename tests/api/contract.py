"""What the OpenAPI document (``/api/openapi.json``) promises, checked against a real answer: its status is one the
operation documents, under the content type it was sent with, and its body validates against the documented schema
(the references into ``components`` resolved). For answers of the test client and of ``requests`` alike."""
import jsonschema


def openapi(client) -> dict:
    """The document as a client reads it."""
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    return response.json()


def assert_documented(document: dict, method: str, path: str, response) -> dict:
    """``response`` (to ``method`` on the operation at ``path``, the template as in the document) is what the
    document says: returns its body."""
    operation = document["paths"][path][method.lower()]
    status = str(response.status_code)
    assert status in operation["responses"], (
        f"{method.upper()} {path} answered {status}; the document lists {sorted(operation['responses'])}")
    media_type = response.headers["Content-Type"].split(";")[0].strip()
    content = operation["responses"][status].get("content", {})
    assert media_type in content, (
        f"{method.upper()} {path} answered {status} as {media_type}; the document says {sorted(content) or 'no body'}")
    body = response.json()
    schema = {**content[media_type]["schema"], "components": document["components"]}
    jsonschema.Draft202012Validator(schema).validate(body)
    return body
