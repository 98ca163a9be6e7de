"""SQLAlchemy 2.0 typed models and the session factory. Imports nothing of ours."""

from models.audit import GENESIS_HASH, AuditChainHead, AuditEvent
from models.base import Base
from models.calendar import PublicHoliday
from models.decisions import Decision, DecisionAnswer, DecisionItem
from models.documents import Comment, Document
from models.logins import (
    ACCOUNT_LINK_PURPOSES,
    AccountLink,
    LoginFailure,
    LoginSession,
    RecoveryCode,
)
from models.mapping import Need, NeedChange, Report, Response
from models.notifications import (
    MAIL_MODES,
    Notice,
    OutboxMessage,
    RecurringStart,
    SchedulerPass,
)
from models.people import Organisation, RoleGrant, User
from models.process import ProcessDefinition, ProcessInstance
from models.register import FocalPoint
from models.session import database_url, make_engine, make_session_factory
from models.tasks import HumanTask, Timer
from models.tokens import ApiToken

__all__ = [
    "ACCOUNT_LINK_PURPOSES",
    "GENESIS_HASH",
    "MAIL_MODES",
    "AccountLink",
    "ApiToken",
    "AuditChainHead",
    "AuditEvent",
    "Base",
    "Comment",
    "Decision",
    "DecisionAnswer",
    "DecisionItem",
    "Document",
    "FocalPoint",
    "HumanTask",
    "LoginFailure",
    "LoginSession",
    "Need",
    "NeedChange",
    "Notice",
    "Organisation",
    "OutboxMessage",
    "ProcessDefinition",
    "ProcessInstance",
    "PublicHoliday",
    "RecoveryCode",
    "RecurringStart",
    "Report",
    "Response",
    "RoleGrant",
    "SchedulerPass",
    "Timer",
    "User",
    "database_url",
    "make_engine",
    "make_session_factory",
]
