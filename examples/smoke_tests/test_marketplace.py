"""Smoke tests a marketplace team writes with launch-gate's fixtures and markers.

Run against the bundled demo (conftest.py starts it when no --gate-config is given):

    python3 -m pytest examples/smoke_tests

or against your staging deploy: `pytest examples/smoke_tests --gate-config launch-gate.toml` with `target`,
`[net]`, `[smoke] plus-address` and `[smoke.mailbox]` set (see examples/marketplace/launch-gate.toml).
"""

import pytest


def sign_up(gate_http, gate_user):
    """Register the throwaway user and make sure it is deleted after the test, whatever happens."""
    login = {"email": gate_user.email, "password": gate_user.password}
    answer = gate_http.post("/api/signup", json=login)
    assert answer.status_code == 201, answer.text

    @gate_user.cleanup
    def delete_account():
        token = gate_http.post("/api/login", json=login).json()["token"]
        assert gate_http.delete("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 204

    return login


@pytest.mark.smoke_flow("signup")
def test_signup_sends_a_signed_confirmation_that_links_home(gate_http, gate_user, gate_mailbox):
    sign_up(gate_http, gate_user)
    mail = gate_mailbox.wait(gate_user.email, subject="confirm")
    gate_mailbox.prove(mail)  # DKIM verifies against your DNS, From aligned, links to the canonical host
    assert any("/confirm" in link for link in mail.links)


@pytest.mark.smoke_flow("booking")
def test_a_client_books_a_coach_and_gets_the_confirmation(gate_http, gate_user, gate_mailbox):
    login = sign_up(gate_http, gate_user)
    token = gate_http.post("/api/login", json=login).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}  # never shown in reports: gate_http keeps it secret
    coach = gate_http.get("/api/coaches", params={"q": "yoga"}).json()[0]
    slot = gate_http.get(f"/api/coaches/{coach['id']}/slots").json()[0]
    booking = gate_http.post(
        "/api/bookings", json={"coach": coach["id"], "start": slot["start"]}, headers=auth
    )
    assert booking.status_code == 201
    gate_mailbox.prove(gate_mailbox.wait(gate_user.email, subject="booking"))
    assert gate_http.get(f"/api/bookings/{booking.json()['id']}", headers=auth).status_code == 200


@pytest.mark.latency_budget(p95_ms=300, samples=30, warmup=2)
def test_coach_search_is_within_budget(gate_http):
    assert gate_http.get("/api/coaches", params={"q": "yoga"}).status_code == 200
