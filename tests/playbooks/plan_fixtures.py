"""A plan with every value filled, shared by the plan tests (service, pages, API, browser)."""

from __future__ import annotations

import re
from typing import Any

#: A blank the document leaves for a value it lacks: ``[tld]``, ``[registry]`` …
BLANK = re.compile(
    r"\[(tld|registry|incident_lead|top_manager|phone_24x7|status_page|website|date|time)\]"
)


def full_values() -> dict[str, Any]:
    return {
        "registry": "Association Française pour le Nommage Internet",
        "incident_lead": "Ana Lopez",
        "top_manager": "Pierre Bonnet",
        "phone_24x7": "+33 1 39 30 83 00",
        "status_page": "https://status.nic.example",
        "website": "https://www.nic.example",
        "escrow_agent": "Example Escrow Services",
        "escrow_contact": "escrow@escrow.example",
        "registrars_channel": "registrars@nic.example and the registrar portal",
        "roles": [
            {"role": "top-management", "person": "Pierre Bonnet", "deputy": "Marie Curie",
             "phone": "+33 1 39 30 83 01"},
            {"role": "incident-lead", "person": "Ana Lopez", "deputy": "Jean Dupont",
             "phone": "+33 1 39 30 83 02"},
        ],
        "services": [{"service": "DNS resolution", "rto": "0", "rpo": "last zone"}],
        "suppliers": [
            {"name": "Example Hosting Co", "service": "Data centre", "contact": "Zoe Martin",
             "phone": "+33 1 39 30 83 03", "email": "noc@hosting.example", "contract": "EX-H-7"}
        ],
        "sites": [
            {"name": "Paris office", "address": "1 rue Exemple, Paris", "role": "primary",
             "notes": "Badge at the desk"},
            {"name": "Lyon backup", "address": "2 rue Exemple, Lyon", "role": "backup",
             "notes": ""},
        ],
        "dns_providers": [
            {"name": "Example Anycast", "servers": "ns1.anycast.example", "contact": "noc@anycast.example"}
        ],
    }  # fmt: skip
