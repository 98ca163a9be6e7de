"""SQLAlchemy 2.0 typed models and the session factory. Imports nothing of ours."""

from models.audit import GENESIS_HASH, AuditChainHead, AuditEvent
from models.base import Base
from models.people import Organisation, RoleGrant, User
from models.process import ProcessDefinition, ProcessInstance
from models.session import database_url, make_engine, make_session_factory
from models.tasks import HumanTask, Timer

__all__ = [
    "GENESIS_HASH",
    "AuditChainHead",
    "AuditEvent",
    "Base",
    "HumanTask",
    "Organisation",
    "ProcessDefinition",
    "ProcessInstance",
    "RoleGrant",
    "Timer",
    "User",
    "database_url",
    "make_engine",
    "make_session_factory",
]
