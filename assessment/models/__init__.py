"""All tables; importing this package registers them with the metadata."""

from .audit import AuditEntry
from .calendar import CalendarDay, Setting
from .jobs import JobState, ReportFile, ReportJob
from .ledger import (
    BonusItem,
    CheckPoint,
    CheckPointStatus,
    InstitutionScore,
    Problem,
    ProblemSource,
    ProblemState,
    Severity,
    Suggestion,
    SuggestionStatus,
)
from .org import Period, PeriodState, PeriodStateError, Town, Unit, UnitKind
from .people import Participant, ParticipantKind, Rater, RaterGroup, Role, User
from .ratings import BadRatingCase, CaseClass, CaseState, Channel, CodeSystem, Device, PublicRating
from .results import Result, ResultRow, ResultState, Scheme
from .surveys import (
    Answer,
    Assignment,
    AssignmentState,
    Instrument,
    Question,
    Response,
    ResponseSource,
    ResponseVersion,
)

__all__ = [
    "Answer", "Assignment", "AssignmentState", "AuditEntry", "BadRatingCase", "BonusItem", "CalendarDay", "CaseClass",
    "CaseState", "Channel", "CheckPoint", "CheckPointStatus", "CodeSystem", "Device", "InstitutionScore",
    "Instrument", "JobState", "Participant", "ParticipantKind", "Period", "PeriodState", "PeriodStateError",
    "Problem", "ProblemSource", "ProblemState", "PublicRating", "Question", "Rater", "RaterGroup", "ReportFile",
    "ReportJob", "Response",
    "ResponseSource", "ResponseVersion", "Result", "ResultRow", "ResultState", "Role", "Scheme", "Setting", "Severity",
    "Suggestion", "SuggestionStatus", "Town", "Unit", "UnitKind", "User",
]
