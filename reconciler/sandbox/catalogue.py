"""The example company's reference data, which opportunities/ uses: the sandbox's defaults.

A seed that leaves out `accounts`, `contacts`, `workflows` or `properties` gets these, so a test
seed can list just the opportunities it needs. `seed.generate` builds its records from them too.
Plain data, returned as fresh copies so that nobody mutates the defaults.
"""

from __future__ import annotations

import copy
from typing import Any

_ACCOUNTS = [
    {"id": 201, "title": "Ramirez Household"},
    {"id": 202, "title": "Chen Family Trust"},
    {"id": 203, "title": "Oakridge Dental LLC"},
    {"id": 204, "title": "Patel Residence"},
    {"id": 205, "title": "Greenfield Elementary PTA"},
]

_CONTACTS = [
    ("Maria", "Ramirez", "maria.ramirez@example.com", "+1 512-555-0101", [201]),
    ("Luis", "Ramirez", "luis.ramirez@example.com", "+1 512-555-0102", [201]),
    ("Wei", "Chen", "wei.chen@example.com", "+1 415-555-0103", [202]),
    ("Grace", "Chen", "grace.chen@example.com", "+1 415-555-0104", [202]),
    ("Daniel", "Okafor", "d.okafor@oakridgedental.example.com", "+1 303-555-0105", [203]),
    ("Priya", "Patel", "priya.patel@example.com", "+1 602-555-0106", [204]),
    ("Arjun", "Patel", "arjun.patel@example.com", "+1 602-555-0107", [204]),
    ("Sarah", "Whitfield", "sarah.whitfield@greenfieldpta.example.org", "+1 919-555-0108", [205]),
    ("Tom", "Brennan", "tom.brennan@example.com", "+1 503-555-0109", []),
    ("Aisha", "Nguyen", "aisha.nguyen@example.com", "+1 713-555-0110", []),
]

_WORKFLOWS = [
    {
        "id": 301,
        "name": "Residential Solar",
        "phases": [
            {"id": 3011, "name": "Site Survey"},
            {"id": 3012, "name": "Design"},
            {"id": 3013, "name": "Permitting"},
            {"id": 3014, "name": "Install"},
        ],
    },
    {
        "id": 302,
        "name": "Roofing",
        "phases": [
            {"id": 3021, "name": "Inspection"},
            {"id": 3022, "name": "Estimate"},
            {"id": 3023, "name": "Install"},
        ],
    },
    {
        "id": 303,
        "name": "HVAC Service",
        "phases": [{"id": 3031, "name": "Diagnosis"}, {"id": 3032, "name": "Install"}],
    },
]


# The company's staff, for the read-only people fields of generated records.
USERS = (
    (101, "Jordan", "Blake", "+1 512-555-0190"),
    (102, "Renee", "Alvarez", "+1 512-555-0191"),
    (103, "Marcus", "Lee", None),
)


def user(index: int) -> dict[str, Any]:
    """An `OpportunityOwner`-shaped staff member."""
    uid, first, last, phone = USERS[index]
    email = f"{first}.{last}@brightpath-energy.example.com".lower()
    return {"id": uid, "firstName": first, "lastName": last, "email": email,
            "phone": phone, "avatarUrl": None}  # fmt: skip


def _prop(
    name: str, key: str, kind: str, options: list[str] | None = None, *, multiple: bool = False
) -> dict[str, Any]:
    return {
        "name": name,
        "type": kind,
        "keyName": key,
        "isMultiple": multiple,
        "options": list(options or []),
        "defaultValue": [],
        "isCustom": key != "trades",
    }


_PROPERTIES = [
    _prop(
        "Trades",
        "trades",
        "DROPDOWN",
        ["Solar", "Roofing", "Battery Storage", "HVAC", "Electrical", "EV Charger"],
        multiple=True,
    ),
    _prop("Financing Type", "financing_type", "DROPDOWN", ["Cash", "Loan", "Lease", "PPA"]),
    _prop("Utility Company", "utility_company", "TEXT"),
    _prop("System Size (kW)", "system_size_kw", "NUMERIC"),
    _prop(
        "Roof Type",
        "roof_type",
        "DROPDOWN",
        ["Asphalt Shingle", "Metal", "Tile", "Flat", "Membrane"],
    ),
    _prop("Site Survey Date", "site_survey_date", "DATE"),
    _prop("HOA Approval", "hoa_approval", "DROPDOWN", ["yes", "no", "pending"]),
    _prop(
        "Lead Source",
        "lead_source",
        "DROPDOWN",
        ["Referral", "Website", "Door-to-door", "Home Show"],
    ),
    _prop(
        "Panel Brands",
        "panel_brands",
        "DROPDOWN",
        ["REC", "Qcells", "Panasonic", "SunPower"],
        multiple=True,
    ),
]


# Pools for `seed.generate`: realistic names, streets and places of the company's market.
# fmt: off
LAST_NAMES = (
    "Anderson", "Baker", "Brooks", "Castillo", "Chen", "Coleman", "Diaz", "Edwards", "Fischer",
    "Flores", "Garcia", "Gupta", "Hernandez", "Hughes", "Ito", "Jackson", "Johansson", "Kim",
    "Kowalski", "Lee", "Lopez", "Martin", "Meyer", "Morales", "Murphy", "Nakamura", "Nguyen",
    "Novak", "O'Brien", "Okafor", "Ortiz", "Patel", "Perez", "Price", "Ramirez", "Reyes", "Rossi",
    "Russo", "Santos", "Schmidt", "Shah", "Silva", "Sullivan", "Taylor", "Thompson", "Tran",
    "Walker", "Washington", "Williams", "Young",
)
FIRST_NAMES = (
    "Aaliyah", "Adam", "Ana", "Ben", "Camila", "Carlos", "Chloe", "Daniel", "Elena", "Emma",
    "Ethan", "Fatima", "Grace", "Hana", "Isaac", "Jamal", "Julia", "Kenji", "Laura", "Leo",
    "Maya", "Miguel", "Nina", "Omar", "Priya", "Rachel", "Sam", "Sofia", "Tom", "Zoe",
)
STREETS = (
    "Main", "Oak", "Maple", "Cedar", "Pine", "Elm", "Washington", "Lake", "Hill", "Park",
    "Sunset", "Ridge", "Willow", "Meadow", "Highland", "River", "Spring", "Forest", "Valley",
    "Church",
)
# fmt: on
SUFFIXES = ("St", "Ave", "Blvd", "Dr", "Ln", "Rd", "Ct", "Way")
CITIES = (
    ("Austin", "TX", "787", "Austin Energy"),
    ("San Antonio", "TX", "782", "CPS Energy"),
    ("Phoenix", "AZ", "850", "APS"),
    ("Tucson", "AZ", "857", "Tucson Electric Power"),
    ("Denver", "CO", "802", "Xcel Energy"),
    ("Boulder", "CO", "803", "Xcel Energy"),
    ("San Diego", "CA", "921", "SDG&E"),
    ("Sacramento", "CA", "958", "SMUD"),
    ("Fresno", "CA", "937", "PG&E"),
    ("Las Vegas", "NV", "891", "NV Energy"),
    ("Raleigh", "NC", "276", "Duke Energy"),
    ("Tampa", "FL", "336", "TECO"),
    ("Orlando", "FL", "328", "OUC"),
    ("Portland", "OR", "972", "Portland General Electric"),
    ("Salt Lake City", "UT", "841", "Rocky Mountain Power"),
    ("Albuquerque", "NM", "871", "PNM"),
)
KINDS = (  # (title suffix, workflow, trades)
    ("Solar Install", 301, ("Solar",)),
    ("Solar + Battery", 301, ("Solar", "Battery Storage")),
    ("Solar + EV Charger", 301, ("Solar", "EV Charger", "Electrical")),
    ("Roof Replacement", 302, ("Roofing",)),
    ("Reroof + Solar", 302, ("Roofing", "Solar")),
    ("HVAC Replacement", 303, ("HVAC",)),
    ("Heat Pump Upgrade", 303, ("HVAC", "Electrical")),
    ("Battery Backup", None, ("Battery Storage", "Electrical")),
)


def accounts() -> list[dict[str, Any]]:
    return copy.deepcopy(_ACCOUNTS)


def contacts() -> list[dict[str, Any]]:
    return [
        {
            "id": 501 + i,
            "firstName": first,
            "lastName": last,
            "emails": [email],
            "phones": [phone],
            "accountIds": list(account_ids),
        }
        for i, (first, last, email, phone, account_ids) in enumerate(_CONTACTS)
    ]


def workflows() -> list[dict[str, Any]]:
    return copy.deepcopy(_WORKFLOWS)


def properties() -> dict[str, list[dict[str, Any]]]:
    return {"opportunity": copy.deepcopy(_PROPERTIES)}


def reference_seed() -> dict[str, Any]:
    """Every reference section and no opportunities: what `seed=None` loads."""
    return {
        "accounts": accounts(),
        "contacts": contacts(),
        "workflows": workflows(),
        "properties": properties(),
        "opportunities": [],
    }
