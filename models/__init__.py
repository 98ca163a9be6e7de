"""SQLAlchemy 2.0 typed models and the session factory. Imports nothing of ours."""

from models.audit import GENESIS_HASH, AuditChainHead, AuditEvent
from models.base import Base
from models.calendar import PublicHoliday
from models.decisions import Decision, DecisionAnswer
from models.documents import Comment, Document
from models.mapping import Need, Report, Response
from models.people import Organisation, RoleGrant, User
from models.process import ProcessDefinition, ProcessInstance
from models.register import FocalPoint
from models.session import database_url, make_engine, make_session_factory
from models.tasks import HumanTask, Timer

__all__ = [
    "GENESIS_HASH",
    "AuditChainHead",
    "AuditEvent",
    "Base",
    "Comment",
    "Decision",
    "DecisionAnswer",
    "Document",
    "FocalPoint",
    "HumanTask",
    "Need",
    "Organisation",
    "ProcessDefinition",
    "ProcessInstance",
    "PublicHoliday",
    "Report",
    "Response",
    "RoleGrant",
    "Timer",
    "User",
    "database_url",
    "make_engine",
    "make_session_factory",
]
