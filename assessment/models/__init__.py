"""All tables; importing this package registers them with the metadata."""

from .access import AccessFailure, AccessKey
from .assignment_rules import AssignmentRule, TargetScope
from .audit import AuditEntry
from .calendar import CalendarDay, Setting
from .checkpoints import CheckPoint, CheckPointFile, CheckPointStateError, CheckPointStatus
from .establishment import ChangeSource, EstablishmentChange, PoolEntryKind, VacancyPoolEntry
from .jobs import JobState, ReportFile, ReportJob
from .ledger import (
    BonusItem,
    InstitutionScore,
    LedgerCounter,
    Problem,
    ProblemAction,
    ProblemClass,
    ProblemSource,
    ProblemState,
    ProblemStep,
    ProblemTransitionError,
    Severity,
    StepFile,
    Suggestion,
    SuggestionFile,
    SuggestionKind,
    SuggestionStatus,
)
from .org import Period, PeriodState, PeriodStateError, Town, Unit, UnitKind
from .people import Participant, ParticipantKind, Rater, RaterGroup, Role, User
from .ratings import BadRatingCase, CaseClass, CaseState, Channel, CodeSystem, Device, PublicRating, RatingCount
from .results import Result, ResultRow, ResultState, Scheme
from .security import Computation, SigninFailure
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
    "ChangeSource", "CheckPointFile", "CheckPointStateError", "EstablishmentChange", "PoolEntryKind",
    "VacancyPoolEntry",
    "AccessFailure", "AccessKey", "AssignmentRule", "TargetScope", "Computation", "SigninFailure",
    "Answer", "Assignment", "AssignmentState", "AuditEntry", "BadRatingCase", "BonusItem", "CalendarDay", "CaseClass",
    "CaseState", "Channel", "CheckPoint", "CheckPointStatus", "CodeSystem", "Device", "InstitutionScore",
    "Instrument", "JobState", "Participant", "ParticipantKind", "Period", "PeriodState", "PeriodStateError",
    "Problem", "ProblemSource", "ProblemState", "PublicRating", "Question", "RatingCount", "Rater", "RaterGroup",
    "ReportFile", "ReportJob", "Response",
    "ResponseSource", "ResponseVersion", "Result", "ResultRow", "ResultState", "Role", "Scheme", "Setting", "Severity",
    "Suggestion", "SuggestionStatus", "Town", "Unit", "UnitKind", "User",
    "LedgerCounter", "ProblemAction", "ProblemClass", "ProblemStep", "ProblemTransitionError", "StepFile",
    "SuggestionFile", "SuggestionKind",
]
