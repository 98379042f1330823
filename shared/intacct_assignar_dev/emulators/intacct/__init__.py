"""A stateful Sage Intacct XML gateway (DTD 3.0) for tests and the demo: same protocol, no credentials needed.
Fill an `IntacctStore` (by hand or with `generate_company`) and serve it with `IntacctEmulator`; a
`CompanyProfile` (STANDARD, LEAN, RICH) says which fields the company has and what its user may read.
"""

from ..http import FaultPlan
from .company import generate_company
from .errors import ErrorDetail, IntacctError
from .gateway import EmulatorCredentials, EmulatorStats
from .profiles import LEAN, RICH, STANDARD, CompanyProfile
from .schema import OBJECTS, DataType, FieldDef, ObjectDef
from .server import FAULT_KINDS, GATEWAY_PATH, IntacctEmulator
from .smart_events import SmartEventCallouts
from .store import IntacctStore, audit_object_key

__all__ = [
    "FAULT_KINDS",
    "GATEWAY_PATH",
    "LEAN",
    "OBJECTS",
    "RICH",
    "STANDARD",
    "CompanyProfile",
    "DataType",
    "EmulatorCredentials",
    "EmulatorStats",
    "ErrorDetail",
    "FaultPlan",
    "FieldDef",
    "IntacctEmulator",
    "IntacctError",
    "IntacctStore",
    "ObjectDef",
    "SmartEventCallouts",
    "audit_object_key",
    "generate_company",
]
