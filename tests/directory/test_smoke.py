from tldops.directory.models import Membership


def test_make_member_goes_through_the_whole_flow(catalog, make_member, outbox):
    person = make_member(catalog["fr"])
    assert person.memberships.get().status == Membership.Status.ACTIVE
    purposes = [m["Subject"] for _r, m in outbox()]
    assert any("confirm" in s for s in purposes)
