"""A seeded, realistic construction company for the emulated Intacct: people, jobs and their sites, cost codes,
equipment. The same seed and store clock always give the same company; sizes scale with the number of employees.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta
from typing import Any

from .schema import OBJECTS, DataType, FieldDef
from .store import IntacctStore

DEPARTMENTS = (
    ("FIELD", "Field Operations"),
    ("SHOP", "Shop and Fabrication"),
    ("OFFICE", "Project Management"),
    ("EST", "Estimating"),
    ("ADMIN", "Administration"),
)
LOCATIONS = (("100", "Denver"), ("200", "Colorado Springs"), ("300", "Fort Collins"))

# (ITEMID, name, share of field staff). EMPPOSITIONID of field staff is the labor ITEMID, except some
# foremen carry the short position "FOREMAN" that tenants map with position_roles.
LABOR = (
    ("LAB-FOREMAN", "Foreman", 8),
    ("LAB-SUPER", "Superintendent", 3),
    ("LAB-CARP-JM", "Journeyman Carpenter", 14),
    ("LAB-CARP-AP", "Apprentice Carpenter", 8),
    ("LAB-LABORER", "Laborer", 20),
    ("LAB-OPERATOR", "Equipment Operator", 9),
    ("LAB-CONC", "Concrete Finisher", 8),
    ("LAB-IRON", "Ironworker", 5),
    ("LAB-ELEC-JM", "Journeyman Electrician", 6),
    ("LAB-PLUMB-JM", "Journeyman Plumber", 5),
    ("LAB-MASON", "Mason", 4),
    ("LAB-WELDER", "Welder", 3),
    ("LAB-DRIVER", "Truck Driver", 4),
    ("LAB-PAINTER", "Painter", 3),
)
OFFICE_POSITIONS = (
    ("PM", "Project Manager", 6),
    ("PE", "Project Engineer", 5),
    ("EST", "Estimator", 3),
    ("SAFETY", "Safety Manager", 1),
    ("ACCT", "Accountant", 2),
    ("PAYROLL", "Payroll Specialist", 1),
    ("HR", "HR Generalist", 1),
    ("ADMIN", "Office Administrator", 2),
    ("EXEC", "Executive", 1),
)
EQUIPMENT = (
    ("EXC", "CAT 320 Excavator", "20-ton hydraulic excavator"),
    ("EXC", "Komatsu PC210 Excavator", "21-ton hydraulic excavator with thumb"),
    ("MEX", "Kubota KX040 Mini Excavator", "4-ton compact excavator"),
    ("LDR", "CAT 950 Wheel Loader", "3.5 cubic yard bucket wheel loader"),
    ("SKD", "Bobcat S650 Skid Steer", "Skid-steer loader with bucket and forks"),
    ("BHL", "John Deere 310L Backhoe", "Backhoe loader, 14 ft dig depth"),
    ("DOZ", "CAT D6 Dozer", "Track-type tractor with 6-way blade"),
    ("TRK", "Ford F-350 Pickup", "Crew-cab pickup with utility bed"),
    ("DMP", "Kenworth T880 Dump Truck", "Tandem-axle dump truck, 14 cubic yards"),
    ("CRN", "Grove RT540E Crane", "40-ton rough-terrain crane"),
    ("TLH", "JLG 1055 Telehandler", "10,000 lb telehandler, 55 ft reach"),
    ("LFT", "Genie S-65 Boom Lift", "65 ft telescopic boom lift"),
    ("RLR", "CAT CS56 Roller", "Smooth-drum vibratory soil compactor"),
    ("GEN", "Generac 100 kW Generator", "Towable diesel generator"),
    ("CMP", "Doosan 185 CFM Compressor", "Towable air compressor"),
)
MATERIALS = (
    ("MAT-CONC-4000", "4000 PSI Ready-Mix Concrete", "CY"),
    ("MAT-REBAR-5", "#5 Rebar, 20 ft", "EA"),
    ("MAT-LUMBER-2X4", "2x4 SPF Stud, 8 ft", "EA"),
    ("MAT-PLY-3/4", "3/4 in CDX Plywood", "EA"),
    ("MAT-GRAVEL", "3/4 in Crushed Gravel", "TON"),
    ("MAT-FORM-OIL", "Form Release Oil", "GAL"),
    ("MAT-ANCHOR", "Anchor Bolt Set", "EA"),
    ("MAT-DRYWALL", "5/8 in Type X Drywall", "EA"),
    ("MAT-PIPE-PVC4", "4 in PVC Pipe, 10 ft", "EA"),
    ("MAT-CONDUIT", "3/4 in EMT Conduit, 10 ft", "EA"),
)
COST_CODES = (
    ("01-100", "General Conditions"),
    ("01-500", "Temporary Facilities"),
    ("02-200", "Site Preparation"),
    ("02-300", "Earthwork"),
    ("02-700", "Site Utilities"),
    ("03-100", "Concrete Forming"),
    ("03-200", "Concrete Reinforcing"),
    ("03-300", "Cast-in-Place Concrete"),
    ("04-200", "Unit Masonry"),
    ("05-100", "Structural Steel"),
    ("05-500", "Metal Fabrications"),
    ("06-100", "Rough Carpentry"),
    ("06-200", "Finish Carpentry"),
    ("07-200", "Insulation"),
    ("07-500", "Roofing"),
    ("08-100", "Doors and Frames"),
    ("09-200", "Gypsum Board"),
    ("09-900", "Painting"),
    ("22-100", "Plumbing"),
    ("23-000", "HVAC"),
    ("26-000", "Electrical"),
    ("31-200", "Excavation and Fill"),
    ("32-100", "Paving"),
    ("33-100", "Water Utilities"),
)
FIRST_NAMES = [
    "James",
    "Maria",
    "Robert",
    "Jose",
    "Michael",
    "David",
    "Juan",
    "Daniel",
    "Luis",
    "Carlos",
    "Jennifer",
    "Sarah",
    "Jessica",
    "Ashley",
    "Emily",
    "Brian",
    "Kevin",
    "Jason",
    "Eric",
    "Anthony",
    "Miguel",
    "Jorge",
    "Ricardo",
    "Ana",
    "Laura",
    "Megan",
    "Rachel",
    "Tyler",
    "Cody",
    "Dustin",
    "Travis",
    "Wyatt",
    "Colton",
    "Hunter",
    "Brandon",
    "Justin",
    "Kyle",
    "Aaron",
    "Adam",
    "Nathan",
    "Samuel",
    "Benjamin",
    "Logan",
    "Ethan",
    "Noah",
    "Olivia",
    "Emma",
    "Sophia",
    "Isabella",
    "Mia",
    "Grace",
    "Hannah",
    "Alejandro",
    "Francisco",
    "Manuel",
    "Pedro",
    "Raul",
    "Sergio",
    "Victor",
    "Oscar",
    "Ruben",
    "Javier",
    "Diego",
    "Andres",
    "Lucas",
    "Mason",
    "Caleb",
]
LAST_NAMES = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Gomez",
    "Phillips",
    "Evans",
    "Turner",
    "Diaz",
    "Parker",
    "Cruz",
    "Edwards",
    "Collins",
    "Reyes",
    "Stewart",
    "Morris",
    "Morales",
    "Murphy",
    "Cook",
    "Rogers",
    "Gutierrez",
    "Ortiz",
    "Morgan",
    "Cooper",
    "Peterson",
    "Bailey",
    "Reed",
    "Kelly",
    "Howard",
    "Ramos",
    "Kim",
    "Cox",
    "Ward",
    "Richardson",
    "Watson",
    "Brooks",
    "Chavez",
    "Wood",
    "James",
    "Bennett",
    "Gray",
    "Mendoza",
    "Ruiz",
    "Hughes",
    "Price",
    "Alvarez",
    "Castillo",
]
CITIES = (
    ("Denver", "80202", "303"),
    ("Aurora", "80012", "720"),
    ("Lakewood", "80226", "303"),
    ("Colorado Springs", "80903", "719"),
    ("Fort Collins", "80521", "970"),
    ("Boulder", "80302", "303"),
    ("Littleton", "80120", "720"),
    ("Arvada", "80002", "303"),
    ("Westminster", "80030", "303"),
    ("Longmont", "80501", "303"),
    ("Pueblo", "81003", "719"),
    ("Greeley", "80631", "970"),
)
STREETS = [
    "Main",
    "St",
    "Colfax",
    "Ave",
    "Broadway",
    "Federal",
    "Blvd",
    "Santa",
    "Fe",
    "Dr",
    "Wadsworth",
    "Blvd",
    "Speer",
    "Blvd",
    "Alameda",
    "Ave",
    "Evans",
    "Ave",
    "Hampden",
    "Ave",
    "Quebec",
    "St",
    "Havana",
    "St",
    "Peoria",
    "St",
    "Tower",
    "Rd",
    "Academy",
    "Blvd",
    "Nevada",
    "Ave",
    "College",
    "Ave",
    "Pearl",
    "St",
]
PLACES = (
    "Cherry Creek",
    "Lowry",
    "Stapleton",
    "Highlands",
    "RiNo",
    "Golden Triangle",
    "Union Station",
    "Belmar",
    "Southlands",
    "Interlocken",
    "Flatiron",
    "Briargate",
    "Old Town",
    "Centerra",
    "Green Valley Ranch",
    "Sloan's Lake",
    "Platte Valley",
    "Tech Center",
    "Castle Pines",
    "Wash Park",
)
BUILDINGS = (
    "Medical Office Building",
    "Elementary School",
    "Parking Structure",
    "Mixed-Use Apartments",
    "Fire Station",
    "Distribution Center",
    "Library Renovation",
    "Water Treatment Plant Upgrade",
    "Retail Center",
    "Hotel",
    "Senior Living Community",
    "Office Tenant Finish",
    "Bridge Replacement",
    "Recreation Center",
    "Data Center",
    "Church Addition",
)
CONTRACTOR_WORDS = [
    "Summit",
    "Front-Range",
    "Alpine",
    "Mile-High",
    "Red-Rock",
    "Pikes-Peak",
    "Clear-Creek",
    "Platte-River",
    "Iron-Horse",
    "Granite",
    "Blue-Spruce",
    "Aspen",
    "Evergreen",
    "Bear-Creek",
    "Timberline",
    "Cornerstone",
    "Keystone",
    "High-Plains",
    "Continental",
    "Foothills",
]
CONTRACTOR_SUFFIXES = ("Construction", "Builders", "General Contractors", "Constructors", "Development", "Properties")
OWNERS = (
    "City of Aurora",
    "City and County of Denver",
    "Jefferson County Public Schools",
    "Denver Public Schools",
    "University of Colorado",
    "Colorado Department of Transportation",
    "Douglas County",
    "Town of Castle Rock",
    "Poudre School District",
    "Denver Water",
    "UCHealth",
    "Adams County",
)
RENTAL_VENDORS = (("V-1001", "Sunbelt Rentals"), ("V-1002", "United Rentals"), ("V-1003", "Herc Rentals"))
UNION_LOCALS = (
    "Carpenters Local 555",
    "Laborers Local 720",
    "Operating Engineers Local 9",
    "Ironworkers Local 24",
    "IBEW Local 68",
    "Plumbers and Pipefitters Local 3",
)
EQUIPMENT_CLASSES = {
    "EXC": "Excavator",
    "MEX": "Compact Excavator",
    "LDR": "Wheel Loader",
    "SKD": "Skid Steer",
    "BHL": "Backhoe",
    "DOZ": "Dozer",
    "TRK": "Light Truck",
    "DMP": "Dump Truck",
    "CRN": "Crane",
    "TLH": "Telehandler",
    "LFT": "Aerial Lift",
    "RLR": "Compactor",
    "GEN": "Generator",
    "CMP": "Compressor",
}


def _weighted(rng: random.Random, options: tuple[tuple[str, str, int], ...]) -> tuple[str, str]:
    code, name, _ = rng.choices(options, weights=[weight for *_, weight in options])[0]
    return code, name


class _Company:
    """One generation run: the random sources, the clock and the names handed out so far.

    `rng` draws everything the standard company has; job sites and custom fields draw from their own sources,
    so adding them, or a profile that hides fields, leaves every other value of a seed as it was.
    """

    def __init__(self, store: IntacctStore, seed: int, domain: str) -> None:
        self.store = store
        self.rng = random.Random(seed)
        self.sites = random.Random(f"{seed}:sites")
        self.custom = random.Random(f"{seed}:custom")
        self.domain = domain
        self.now = store.now()
        self.today = self.now.date()
        self.emails: set[str] = set()
        self.counts: Counter[str] = Counter()
        # The company writes only what its profile offers (a lean company lacks those values) and fills its
        # custom fields: worked out once per object, not per record.
        standard = {name: frozenset(spec.fields) for name, spec in OBJECTS.items()}
        self.offered = {name: frozenset(spec.fields) for name, spec in store.objects.items()}
        self.hides = {name for name, fields in self.offered.items() if not standard[name] <= fields}
        self.customs = {
            name: tuple(field for field in spec.fields.values() if field.custom) for name, spec in store.objects.items()
        }

    def seed(
        self, obj: str, values: dict[str, Any], *, age_days: int = 900, rng: random.Random | None = None
    ) -> dict[str, Any]:
        rng = rng or self.rng
        created = self.now - timedelta(days=rng.randint(30, age_days), seconds=rng.randint(0, 86_399))
        span = max(1, int((self.now - created).total_seconds()) - 60)
        modified = created + timedelta(seconds=rng.randint(0, span)) if rng.random() < 0.6 else created
        if self.customs[obj]:
            values = {**values, **_custom_values(self, obj, values)}
        if obj in self.hides:
            values = {name: value for name, value in values.items() if name in self.offered[obj]}
        self.counts[obj] += 1
        return self.store.seed(obj, values, created=created, modified=modified)

    def person(self) -> tuple[str, str]:
        return self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)

    def email(self, first: str, last: str, domain: str | None = None) -> str:
        base = f"{first}.{last}".lower().replace("'", "")
        domain = domain or self.domain
        candidate, number = f"{base}@{domain}", 1
        while candidate in self.emails:
            number += 1
            candidate = f"{base}{number}@{domain}"
        self.emails.add(candidate)
        return candidate

    def phone(self, area: str) -> str:
        return f"({area}) 555-{self.rng.randint(100, 9999):04d}"

    def address(self, prefix: str = "") -> dict[str, str]:
        """A Colorado mailing address as `<prefix>.MAILADDRESS.*` (CONTACT's own `MAILADDRESS.*` without one)."""
        city, zip_code, _ = self.rng.choice(CITIES)
        at = f"{prefix}.MAILADDRESS" if prefix else "MAILADDRESS"
        return {
            f"{at}.ADDRESS1": f"{self.rng.randint(100, 19999)} {self.rng.choice(STREETS)}",
            f"{at}.CITY": city,
            f"{at}.STATE": "CO",
            f"{at}.ZIP": zip_code,
            f"{at}.COUNTRY": "United States",
        }


def generate_company(store: IntacctStore, employees: int = 500, seed: int = 7) -> dict[str, int]:
    """Fill `store` with a construction company of about `employees` people; returns records created per object."""
    if employees < 1:
        raise ValueError("a company needs at least one employee")
    company = _Company(store, seed, "peakbuilders.example.com")
    locations = LOCATIONS[: 3 if employees >= 1000 else 2]
    for location_id, name in locations:
        company.seed("LOCATION", {"LOCATIONID": location_id, "NAME": name, "CURRENCY": "USD"}, age_days=2000)
    for department_id, title in DEPARTMENTS:
        company.seed("DEPARTMENT", {"DEPARTMENTID": department_id, "TITLE": title}, age_days=2000)
    _items(company, employees)
    for code, name in COST_CODES:
        company.seed("STANDARDTASK", {"STANDARDTASKID": code, "NAME": name, "DESCRIPTION": f"{code} {name}"})
    company.seed("VENDOR", {"VENDORID": "V-INTERNAL", "NAME": "Internal Equipment Recovery", "VENDTYPE": "Internal"})
    for vendor_id, name in RENTAL_VENDORS:
        company.seed("VENDOR", {"VENDORID": vendor_id, "NAME": name, "VENDTYPE": "Equipment Rental"})
    managers = _employees(company, employees, [location_id for location_id, _ in locations])
    customers = _customers(company, max(5, employees // 40))
    _projects(company, max(4, employees // 15), customers, managers, [location_id for location_id, _ in locations])
    _cost_types(company)
    return dict(company.counts)


COST_TYPES = (("LAB", "Labor"), ("EQP", "Equipment"))


def _cost_types(company: _Company) -> None:
    """The labor and equipment cost types (the tenant document's defaults) under every task: Construction keeps
    cost types per task. Seeded last and without the company's random numbers, so every other record is the
    same as before cost types were emulated."""
    created = company.now - timedelta(days=900)
    for task in company.store.rows("TASK"):
        for cost_type_id, name in COST_TYPES:
            values = {
                "COSTTYPEID": cost_type_id,
                "NAME": name,
                "PROJECTID": task["PROJECTID"],
                "TASKID": task["TASKID"],
            }
            company.store.seed("COSTTYPE", {**values, "STATUS": task["STATUS"]}, created=created)
            company.counts["COSTTYPE"] += 1


def _items(company: _Company, employees: int) -> None:
    rng = company.rng
    for item_id, name, _ in LABOR:
        company.seed(
            "ITEM",
            {"ITEMID": item_id, "NAME": name, "ITEMTYPE": "Non-Inventory", "GLGROUP": "Labor", "UOMGRP": "Time"},
        )
    for number in range(1, max(6, employees // 20) + 1):
        code, model, description = EQUIPMENT[(number - 1) % len(EQUIPMENT)]
        unit = f"E-{100 + number}"
        company.seed(
            "ITEM",
            {
                "ITEMID": f"EQ-{code}-{number:03d}",
                "NAME": f"{model} ({unit})",
                "EXTENDED_DESCRIPTION": f"{description}; unit {unit}, model year {rng.randint(2012, 2024)}",
                "ITEMTYPE": "Non-Inventory",
                "GLGROUP": "Equipment",
                "UOMGRP": "Time",
                "STANDARD_COST": f"{rng.choice((25, 35, 45, 65, 85, 120, 150))}",
                "STATUS": "inactive" if rng.random() < 0.05 else "active",
            },
        )
    for item_id, name, unit in MATERIALS:
        company.seed(
            "ITEM",
            {"ITEMID": item_id, "NAME": name, "ITEMTYPE": "Inventory", "GLGROUP": "Materials", "UOMGRP": unit},
        )


def _employees(company: _Company, count: int, locations: list[str]) -> list[str]:
    """Field (about 80%) and office staff; returns the project managers' EMPLOYEEIDs."""
    rng = company.rng
    managers: list[str] = []
    for number in range(count):
        field_worker = rng.random() < 0.8 if number > 0 else False
        first, last = company.person()
        city, zip_code, area = rng.choice(CITIES)
        if field_worker:
            department = "SHOP" if rng.random() < 0.1 else "FIELD"
            position, title = _weighted(rng, LABOR)
            if position == "LAB-FOREMAN" and rng.random() < 0.5:
                position = "FOREMAN"
            earning = "Hourly"
        else:
            position, title = _weighted(rng, OFFICE_POSITIONS)
            department = {"EST": "EST", "ACCT": "ADMIN", "PAYROLL": "ADMIN", "HR": "ADMIN", "ADMIN": "ADMIN"}.get(
                position, "OFFICE"
            )
            earning = "Salary"
        start = company.today - timedelta(days=rng.randint(20, 365 * 15))
        inactive = rng.random() < 0.07
        employee_id = f"E{1001 + number}"
        if position == "PM" and not inactive:
            managers.append(employee_id)
        company.seed(
            "EMPLOYEE",
            {
                "EMPLOYEEID": employee_id,
                "TITLE": title,
                "CONTACT.CONTACTNAME": f"{last}, {first} ({employee_id})",
                "CONTACT.PRINTAS": f"{first} {last}",
                "CONTACT.FIRSTNAME": first,
                "CONTACT.LASTNAME": last,
                "CONTACT.EMAIL1": company.email(first, last),
                "CONTACT.PHONE1": company.phone(area),
                "CONTACT.CELLPHONE": company.phone(area) if rng.random() < 0.7 else None,
                "CONTACT.MAILADDRESS.ADDRESS1": f"{rng.randint(100, 19999)} {rng.choice(STREETS)}",
                "CONTACT.MAILADDRESS.CITY": city,
                "CONTACT.MAILADDRESS.STATE": "CO",
                "CONTACT.MAILADDRESS.ZIP": zip_code,
                "CONTACT.MAILADDRESS.COUNTRY": "United States",
                "DEPARTMENTID": department,
                "LOCATIONID": rng.choices(locations, weights=[6, 3, 2][: len(locations)])[0],
                "STARTDATE": start,
                "ENDDATE": company.today - timedelta(days=rng.randint(1, 300)) if inactive else None,
                "BIRTHDATE": date(rng.randint(1958, 2005), rng.randint(1, 12), rng.randint(1, 28)),
                "EMPLOYEETYPE": rng.choices(("Full Time", "Part Time", "Seasonal", "Temporary"), (85, 5, 7, 3))[0],
                "EMPPOSITIONID": position,
                "EARNINGTYPENAME": earning,
                "GENDER": rng.choice(("Male", "Female")) if rng.random() < 0.9 else None,
                "STATUS": "inactive" if inactive else "active",
            },
        )
    return managers or ["E1001"]


def _customers(company: _Company, count: int) -> list[str]:
    """Owners, general contractors and developers; returns the active ones' CUSTOMERIDs."""
    rng = company.rng
    names: list[tuple[str, str]] = [(owner, "Owner") for owner in OWNERS]
    names += [
        (
            f"{word.replace('-', ' ')} {suffix}",
            "Developer" if suffix in ("Development", "Properties") else "General Contractor",
        )
        for word in CONTRACTOR_WORDS
        for suffix in CONTRACTOR_SUFFIXES
    ]
    rng.shuffle(names)
    customer_ids = []
    for number in range(count):
        name, kind = names[number % len(names)]
        if number >= len(names):
            name = f"{name} {number // len(names) + 1}"
        customer_id = f"C-{1001 + number}"
        first, last = company.person()
        _, _, area = rng.choice(CITIES)
        domain = "".join(char for char in name.lower() if char.isalnum())[:20] + ".example.com"
        record = company.seed(
            "CUSTOMER",
            {
                "CUSTOMERID": customer_id,
                "NAME": name,
                "CUSTTYPE": kind,
                "DISPLAYCONTACT.CONTACTNAME": f"{name} ({customer_id})",
                "DISPLAYCONTACT.PRINTAS": name,
                "DISPLAYCONTACT.COMPANYNAME": name,
                "DISPLAYCONTACT.FIRSTNAME": first,
                "DISPLAYCONTACT.LASTNAME": last,
                "DISPLAYCONTACT.EMAIL1": company.email(first, last, domain),
                "DISPLAYCONTACT.PHONE1": company.phone(area),
                **company.address("DISPLAYCONTACT"),
                "STATUS": "inactive" if rng.random() < 0.05 else "active",
            },
        )
        if record["STATUS"] == "active":
            customer_ids.append(customer_id)
    return customer_ids


def _projects(company: _Company, count: int, customers: list[str], managers: list[str], locations: list[str]) -> None:
    rng = company.rng
    per_year: Counter[int] = Counter()
    for _ in range(count):
        begin = company.today - timedelta(days=rng.randint(-60, 4 * 365))
        year = begin.year % 100
        per_year[year] += 1
        project_id = f"{year:02d}-{per_year[year] * 7 + rng.randint(0, 6):04d}"
        end = begin + timedelta(days=rng.randint(90, 720))
        finished = end < company.today
        status = "Completed" if finished else "Not Started" if begin > company.today else "In Progress"
        inactive = finished and rng.random() < 0.4
        status_field = "inactive" if inactive else "active"
        place, building = rng.choice(PLACES), rng.choice(BUILDINGS)
        site = f"{place} {building} site ({project_id})"
        values: dict[str, Any] = {
            "PROJECTID": project_id,
            "NAME": f"{place} {building}",
            "DESCRIPTION": f"{building} at {place}",
            "PROJECTCATEGORY": "Contract",
            "PROJECTSTATUS": "On Hold" if not finished and rng.random() < 0.05 else status,
            "PROJECTTYPE": rng.choice(("Commercial", "Public Works", "Multifamily", "Industrial", "Institutional")),
            "CUSTOMERID": rng.choice(customers),
            "MANAGERID": rng.choice(managers),
            "BEGINDATE": begin,
            "ENDDATE": end,
            "LOCATIONID": rng.choice(locations),
            "DEPARTMENTID": "FIELD",
            "BUDGETAMOUNT": f"{rng.randint(150, 45_000) * 1000}",
            "SHIPTO.CONTACTNAME": site,
            "STATUS": status_field,
        }
        _site_contact(company, site, f"{place} {building}")
        _tasks(company, company.seed("PROJECT", values), begin, end)


def _site_contact(company: _Company, name: str, job: str) -> None:
    """The job site as Intacct keeps it: a CONTACT (with the site's address) that the project names as ship-to.

    The address comes from the main source at the point it always did, the rest from the sites' own source.
    """
    address = company.address()
    sites = company.sites
    first, last = sites.choice(FIRST_NAMES), sites.choice(LAST_NAMES)
    _, _, area = sites.choice(CITIES)
    company.seed(
        "CONTACT",
        {
            "CONTACTNAME": name,
            "PRINTAS": f"{job} job site",
            "FIRSTNAME": first,
            "LASTNAME": last,
            "PHONE1": f"({area}) 555-{sites.randint(100, 9999):04d}",
            **address,
        },
        rng=sites,
    )


def _tasks(company: _Company, project: dict[str, Any], begin: date, end: date) -> None:
    """Three to eight cost-code tasks per job, in cost-code order, spread over the job's dates."""
    rng = company.rng
    codes = sorted(rng.sample(COST_CODES, rng.randint(3, 8)))
    span = max(1, (end - begin).days)
    for number, (code, name) in enumerate(codes, start=1):
        task_begin = begin + timedelta(days=int(span * (number - 1) / (len(codes) + 1)))
        task_end = min(end, task_begin + timedelta(days=rng.randint(14, max(15, span // 2))))
        if task_end < company.today:
            task_status = "Completed"
        elif task_begin > company.today:
            task_status = "Planned" if rng.random() < 0.5 else "Not Started"
        else:
            task_status = "In Progress"
        company.seed(
            "TASK",
            {
                "TASKID": code,
                "NAME": name,
                "PROJECTID": project["PROJECTID"],
                "STANDARDTASKID": code,
                "TASKSTATUS": task_status,
                "BILLABLE": rng.random() < 0.3,
                "TASKNO": str(number),
                "PBEGINDATE": task_begin,
                "PENDDATE": task_end,
                "STATUS": project["STATUS"],
            },
        )


def _custom_values(company: _Company, obj: str, values: dict[str, Any]) -> dict[str, Any]:
    """Values for the company's custom fields of `obj`: realistic for the ones a RICH company has."""
    return {field.name: _custom_value(company, company.custom, field, values) for field in company.customs[obj]}


def _custom_value(company: _Company, rng: random.Random, field: FieldDef, values: dict[str, Any]) -> Any:
    if field.name == "JOBSITE_SUPERINTENDENT":
        return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    if field.name == "PERMIT_NUMBER":
        return f"BLD{values['BEGINDATE']:%Y}-{rng.randint(1, 99999):05d}" if rng.random() < 0.85 else None
    if field.name == "UNION_LOCAL":
        return rng.choice(UNION_LOCALS) if values.get("EARNINGTYPENAME") == "Hourly" and rng.random() < 0.6 else None
    if field.name == "SAFETY_CERT_EXPIRES":
        return company.today + timedelta(days=rng.randint(-60, 3 * 365)) if rng.random() < 0.8 else None
    if field.name == "EQUIPMENT_CLASS":
        code = str(values["ITEMID"]).split("-")[1] if values.get("GLGROUP") == "Equipment" else ""
        return EQUIPMENT_CLASSES.get(code)
    # Any other custom field a test's profile adds: a plain value of its type.
    if field.valid_values:
        return rng.choice(field.valid_values)
    if field.datatype is DataType.DATE:
        return company.today - timedelta(days=rng.randint(0, 365))
    if field.datatype is DataType.TIMESTAMP:
        return company.now - timedelta(minutes=rng.randint(0, 525_600))
    if field.datatype is DataType.INTEGER:
        return rng.randint(1, 1000)
    if field.datatype is DataType.DECIMAL:
        return f"{rng.randint(1, 100_000) / 100}"
    if field.datatype is DataType.BOOLEAN:
        return rng.random() < 0.5
    return f"{field.name.replace('_', ' ').title()} {rng.randint(1, 999)}"
