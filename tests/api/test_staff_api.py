"""The staff's tools in the API (issue 9): resetting a second factor, the overview, the outbox."""

from __future__ import annotations

from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.api.conftest import token_for
from tldops.directory.models import AuditEntry
from tldops.mail.models import Delivery, OutboundMessage
from tldops.repository import editions, reachability

REASON = "lost phone, confirmed by a call on 3 May"


def test_reset_through_the_api(world, api_client, outbox):
    TOTPDevice.objects.create(user=world.other.user, name="phone", confirmed=True)
    path = f"/people/{world.other.pk}/reset-second-factor"
    assert world.clients["member"].post(path, {"reason": REASON}).status_code == 403
    assert world.clients["anonymous"].post(path, {"reason": REASON}).status_code == 401
    assert world.clients["secretariat"].post(path, {"reason": ""}).status_code == 422
    # One's own: refused; the committee's, by the secretariat: refused.
    TOTPDevice.objects.create(user=world.secretariat.user, name="phone", confirmed=True)
    own = world.clients["secretariat"].post(
        f"/people/{world.secretariat.pk}/reset-second-factor", {"reason": REASON}
    )
    assert own.status_code == 403 and "your own" in own.data["detail"]
    assert TOTPDevice.objects.filter(user=world.other.user).exists()
    response = world.clients["secretariat"].post(path, {"reason": REASON})
    assert response.status_code == 200, response.data
    assert response.data == {
        "person_id": world.other.pk,
        "email": world.other.email,
        "devices_removed": 1,
    }
    assert not TOTPDevice.objects.filter(user=world.other.user).exists()
    assert AuditEntry.objects.get(action="second-factor-reset").door == "api"
    assert [to for to, _msg in outbox("second-factor-reset")] == [world.other.email]
    again = world.clients["secretariat"].post(path, {"reason": REASON})
    assert again.status_code == 400 and "nothing to reset" in again.data["detail"]


def test_a_staff_token_needs_the_staff_role_not_a_superuser_flag(world, api_client):
    """is_superuser and is_staff mean nothing to tldops: a member flagged so is a member."""
    user = world.member.user
    user.is_superuser = user.is_staff = True
    user.save()
    member = api_client(token=token_for(world.member))
    assert member.get("/staff/summary").status_code == 403
    assert member.post("/mail/retry", {"all": True}).status_code == 403


def _failed(recipient: str = "gone@nic.example") -> Delivery:
    message = OutboundMessage.objects.create(
        purpose="test", subject="Lost", envelope_from="secretariat@tldops.localhost", raw=b"x"
    )
    return Delivery.objects.create(
        message=message,
        recipient=recipient,
        status=Delivery.Status.FAILED,
        attempts=8,
        next_attempt_at=timezone.now(),
        last_error="550 no such user",
    )


def test_the_staff_summary(world):
    _failed()
    data = world.clients["committee"].get("/staff/summary").data
    assert data["directory"]["pending_contacts"] == 1  # Carl, named for .ca
    assert data["directory"]["invitations_waiting"] >= 1
    assert data["outbox"]["failed"] == 1 and data["held_posts"] == 0
    assert data["edition"]["last_period"] is None
    assert data["edition"]["next_due_at"] == editions.next_due().isoformat().replace("+00:00", "Z")
    assert data["edition"]["next_period"] == f"{editions.next_due():%Y-%m}"
    assert data["reachability"]["period"] is None
    assert data["reachability"]["next_period"] == reachability.next_due()[0]
    assert world.clients["member"].get("/staff/summary").status_code == 403


def test_retry_failed_deliveries_through_the_api(world):
    one, two = _failed("one@nic.example"), _failed("two@nic.example")
    staff = world.clients["secretariat"]
    assert world.clients["member"].post("/mail/retry", {"all": True}).status_code == 403
    assert staff.post("/mail/retry", {}).status_code == 400  # neither ids nor all
    assert staff.post("/mail/retry", {"ids": [one.pk], "all": True}).status_code == 400
    assert staff.post("/mail/retry", {"ids": [2**70]}).status_code == 422
    assert staff.post("/mail/retry", {"ids": [999_999]}).status_code == 404
    response = staff.post("/mail/retry", {"ids": [one.pk]})
    assert response.status_code == 200 and response.data == {"requeued": [one.pk]}
    assert staff.post("/mail/retry", {"all": True}).data == {"requeued": [two.pk]}
    assert set(Delivery.objects.values_list("status", flat=True)) == {"pending"}
    assert AuditEntry.objects.filter(action="mail-retry", door="api").count() == 2
