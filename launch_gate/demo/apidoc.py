"""The demo app's OpenAPI document (served at /openapi.json) and the signup validation that keeps to it.

`security.inputs` reads the document and sends the app invalid input. The clean app answers what the document
forbids with a 422 (what is not JSON at all, the app's own 400) before any handler runs, so invalid input
creates nothing; with the `input-500` fault the signup handler trusts its input and crashes on it: a 500
with the stack trace in the body, as a debug-mode server shows it.
"""

from __future__ import annotations

import json
import re
import traceback
from typing import Any
from urllib.parse import parse_qs

EMAIL = r"[^@\s]+@[^@\s]+"


def _json(schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {"description": description or "JSON", "content": {"application/json": {"schema": schema}}}


ERROR = _json({"$ref": "#/components/schemas/Error"}, "what was wrong")
BOOKING = {"$ref": "#/components/schemas/Booking"}
ID = {"type": "integer", "minimum": 1}
BEARER: list[dict[str, list[str]]] = [{"bearer": []}]


def _body(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    schema = {"type": "object", "properties": properties, "required": required, "additionalProperties": False}
    return {"required": True, "content": {"application/json": {"schema": schema}}}


OPENAPI: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Coachly", "version": "1.0"},
    "servers": [{"url": "/"}],
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]},
            "Coach": {
                "type": "object",
                "properties": {
                    "id": ID,
                    "name": {"type": "string"},
                    "topic": {"type": "string"},
                    "city": {"type": "string"},
                },
                "required": ["id", "name", "topic", "city"],
            },
            "Booking": {
                "type": "object",
                "properties": {"id": ID, "coach": ID, "client": {"type": "string"}},
                "required": ["id", "coach"],
            },
        },
    },
    "paths": {
        "/health": {"get": {"responses": {"200": _json({"type": "object", "required": ["status"]})}}},
        "/api/coaches": {
            "get": {
                "parameters": [{"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 100}}],
                "responses": {
                    "200": _json({"type": "array", "items": {"$ref": "#/components/schemas/Coach"}}),
                    "503": ERROR,
                },
            }
        },
        "/api/coaches/{coach}/slots": {
            "get": {
                "parameters": [{"name": "coach", "in": "path", "required": True, "schema": ID}],
                "responses": {
                    "200": _json(
                        {
                            "type": "array",
                            "items": {"type": "object", "properties": {"start": {"type": "string"}}},
                        }
                    )
                },
            }
        },
        "/api/signup": {
            "post": {
                "requestBody": _body(
                    {
                        "email": {"type": "string", "pattern": f"^{EMAIL}$", "maxLength": 254},
                        "password": {"type": "string", "minLength": 8, "maxLength": 128},
                    },
                    ["email", "password"],
                ),
                "responses": {
                    "201": _json({"type": "object", "properties": {"email": {"type": "string"}}}),
                    "400": ERROR,
                    "409": ERROR,
                    "422": ERROR,
                },
            }
        },
        "/api/login": {
            "post": {
                "requestBody": _body(
                    {"email": {"type": "string"}, "password": {"type": "string"}}, ["email", "password"]
                ),
                "responses": {
                    "200": _json(
                        {"type": "object", "properties": {"token": {"type": "string"}}, "required": ["token"]}
                    ),
                    "400": ERROR,
                    "401": ERROR,
                    "429": ERROR,
                },
            }
        },
        "/api/me": {
            "get": {"security": BEARER, "responses": {"200": _json({"type": "object"}), "401": ERROR}},
            "delete": {"security": BEARER, "responses": {"204": {"description": "deleted"}, "401": ERROR}},
        },
        "/api/bookings": {
            "post": {
                "security": BEARER,
                "requestBody": _body({"coach": ID, "start": {"type": "string"}}, ["coach"]),
                "responses": {"201": _json(BOOKING), "400": ERROR, "401": ERROR, "422": ERROR},
            }
        },
        "/api/bookings/{booking}": {
            "parameters": [{"name": "booking", "in": "path", "required": True, "schema": ID}],
            "get": {"security": BEARER, "responses": {"200": _json(BOOKING), "401": ERROR, "404": ERROR}},
            "delete": {
                "security": BEARER,
                "responses": {"204": {"description": "cancelled"}, "401": ERROR, "404": ERROR},
            },
        },
    },
}


def _payload(body: bytes, content_type: str) -> object:
    if content_type.startswith("application/x-www-form-urlencoded"):
        return {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
    return json.loads(body)


def signup_problem(body: bytes, content_type: str) -> str | None:
    """What makes a signup's body break the document (None: it keeps to it); "not JSON" for what the app's
    own parser refuses with a 400."""
    try:
        payload = _payload(body, content_type)
    except ValueError:
        return "not JSON"
    if not isinstance(payload, dict):
        return "a JSON object, please"
    email, password = payload.get("email"), payload.get("password")
    if set(payload) - {"email", "password"}:
        return "only email and password, please"
    if not isinstance(email, str) or not re.fullmatch(EMAIL, email) or len(email) > 254:
        return "email must be an email address"
    if not isinstance(password, str) or not 8 <= len(password) <= 128:
        return "password must be a string of 8 to 128 characters"
    return None


def _trusting_signup(body: bytes) -> None:
    """A signup handler with no validation, as the fault has it: it fails on whatever it did not expect."""
    payload = json.loads(body)
    email = payload["email"].strip().lower()
    if len(payload["password"]) < 8 or "@" not in email or len(payload) != 2:
        raise ValueError(f"cannot create user from {sorted(payload)}")


def crash(body: bytes) -> str:
    """The stack trace the trusting handler leaves on an invalid body, as a debug-mode server shows it."""
    try:
        _trusting_signup(body)
    except Exception:
        return traceback.format_exc()
    return "Traceback (most recent call last):\n  ValueError: signup failed\n"
