"""Request and response bodies of the agent API.

Customer text is returned exactly as stored: JSON is not HTML. Pages that render it must
insert it as text (the console does), never as markup.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from core.limits import MAX_MESSAGE_CHARS
from escalation.models import Author, EmailKind, FaqEntryStatus, Priority, Role, TicketStatus

MAX_ID = 2**31 - 1
#: One character that is whitespace neither to JSON Schema's regular expressions nor to
#: pydantic's (they differ on U+0085 and U+FEFF): a client is never refused a text the
#: schema allows.
VISIBLE = r"[^\s\u0085\ufeff]"
#: Some visible character; stripped of surrounding whitespace before it is stored.
MessageText = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=MAX_MESSAGE_CHARS, pattern=VISIBLE
    ),
]


class SignIn(BaseModel):
    email: Annotated[str, StringConstraints(min_length=3, max_length=254)]  # matched stripped
    password: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class AgentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    role: Role
    languages: list[str] = Field(default_factory=list, description="Routed tickets' languages.")
    team: str | None = None
    available: bool = Field(True, description="Online: new tickets may be routed to them.")


class AgentAccount(AgentOut):
    """An account as an admin sees it."""

    disabled_at: datetime | None


class NewAgent(BaseModel):
    email: Annotated[str, StringConstraints(min_length=3, max_length=254)]
    name: Annotated[str, StringConstraints(max_length=100)] = ""
    password: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    role: Role = Role.AGENT


class NewPassword(BaseModel):
    password: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class OwnPasswordChange(BaseModel):
    current_password: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    new_password: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class Erased(BaseModel):
    conversations: int
    tickets: int
    tracker_events: int


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    agent: AgentOut


class StreamPass(BaseModel):
    ticket: str
    expires_in: int  # seconds


class SlaOut(BaseModel):
    """Where an active ticket stands against its next service-level target."""

    model_config = ConfigDict(from_attributes=True)

    target: Literal["first_response", "resolution"]
    due_at: datetime
    state: Literal["ok", "warning", "breached", "paused"] = Field(
        description="warning: past the policy's warn_at share of the open time to due_at; "
        "paused: the ticket waits on the customer (due_at moves on when they answer)"
    )


class TicketSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    conversation_id: str
    channel: str
    contact: str | None
    status: TicketStatus
    priority: Priority
    category: str | None
    team: str | None = Field(description="The team its category goes to (the SLA policy).")
    language: str
    language_confidence: float
    reason: str
    order_number: str | None
    customer_email: str | None = Field(
        description="The address the customer wrote in the chat (updates go there when they left)."
    )
    preview: str | None = Field(description="The customer's latest message, shortened.")
    assignee: AgentOut | None
    escalated_at: datetime
    first_agent_response_at: datetime | None
    resolved_at: datetime | None
    csat: int | None
    first_response_due_at: datetime | None
    first_response_warn_at: datetime | None
    resolution_due_at: datetime | None
    resolution_warn_at: datetime | None
    paused_at: datetime | None = Field(
        description="Since when the service-level clock stands still (waiting on the customer)."
    )
    sla: SlaOut | None = Field(
        None, description="The running service-level clock of an active ticket (list, read)."
    )


class DeliveryOut(BaseModel):
    """Whether an agent's reply has reached the customer's channel; while it has not, how
    often it was tried and what the channel answered last (it is tried again)."""

    model_config = ConfigDict(from_attributes=True)

    delivered_at: datetime | None
    attempts: int
    last_error: str | None


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    author: Author
    text: str
    sent_at: datetime
    agent: AgentOut | None = None
    delivery: DeliveryOut | None = None


class TicketDetail(TicketSummary):
    tried_entries: list[dict[str, Any]]
    messages: list[MessageOut]


class TextIn(BaseModel):
    text: MessageText


class AssignIn(BaseModel):
    agent_id: int | None = Field(
        ge=1, le=MAX_ID, description="The agent to assign; null returns it to the queue."
    )
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = Field(
        None, description="Why, for the ticket's history (e.g. 'speaks Greek')."
    )


class CannedReplyOut(BaseModel):
    title: str
    text: str = Field(description="In the ticket's language, placeholders filled in.")


class AvailabilityIn(BaseModel):
    available: bool = Field(description="true: online; false: away (no new tickets routed).")


class StatusIn(BaseModel):
    status: TicketStatus


class PriorityIn(BaseModel):
    priority: Priority


class EmailOut(BaseModel):
    """An e-mail to the customer, queued; sent_at once the SMTP server took it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: EmailKind
    to_address: str
    created_at: datetime
    sent_at: datetime | None


class NewConversation(BaseModel):
    conversation_id: str


class BotMessage(BaseModel):
    text: str | None
    buttons: list[dict[str, Any]]
    timestamp: float


class DurationsOut(BaseModel):
    """p50 and p90 in seconds (nearest rank; null without any)."""

    model_config = ConfigDict(from_attributes=True)

    count: int
    p50_seconds: float | None
    p90_seconds: float | None


class SummaryOut(BaseModel):
    """What the bot resolved and how people did, over a period (escalation/analytics.py)."""

    model_config = ConfigDict(from_attributes=True)

    conversations: int = Field(description="With an FAQ decision or a ticket in the period.")
    contained: int = Field(description="Of those, without a ticket.")
    containment_rate: float | None
    verified_deflections: int = Field(
        description="Answered, no ticket, no 'did not help', not asked about the same entry "
        "again within 24 h."
    )
    verified_deflection_rate: float | None
    answered: int
    clarified: int
    declined: int
    rated_helped: int
    rated_not_helped: int
    escalations: int
    escalation_reasons: dict[str, int]
    first_response: DurationsOut
    first_response_business: DurationsOut = Field(description="In the SLA calendar's open time.")
    resolution: DurationsOut
    resolution_business: DurationsOut
    csat_count: int
    csat_average: float | None
    csat_distribution: dict[int, int]


class SeriesPoint(BaseModel):
    start: datetime
    summary: SummaryOut


class BreakdownRow(BaseModel):
    value: str = Field(description="The language or channel.")
    summary: SummaryOut


class EntryStatsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    entry_id: str
    answered: int
    helped: int
    not_helped: int
    acceptance_rate: float | None = Field(description="helped / rated; null when nobody rated.")


class GapClusterOut(BaseModel):
    """Questions the FAQ did not settle that mean the same, in one language."""

    model_config = ConfigDict(from_attributes=True)

    language: str
    size: int = Field(description="Questions in the group (declined, clarified, did not help).")
    conversations: int
    questions: list[str] = Field(description="Examples, latest first.")
    closest_entry: str | None = Field(description="The FAQ entry most of them came closest to.")
    declined: int
    clarified: int
    not_helped: int
    agent_replies: list[str] = Field(description="What agents answered in those conversations.")


LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")]
#: Stripped by escalation/faq_entries.py (Python's whitespace is wider than JSON Schema's).
Phrase = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=VISIBLE)]


class FaqVariantIn(BaseModel):
    """One language's wording; an answer may be left empty in a draft (not when published)."""

    model_config = ConfigDict(extra="forbid")

    question: Phrase
    alternatives: list[Phrase] = Field([], max_length=50)
    answer: Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)] = ""


class FaqEntryIn(BaseModel):
    """An FAQ entry as the YAML files have it: one variant per language."""

    model_config = ConfigDict(extra="forbid")

    entry_id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.:-]{0,99}$")] = Field(
        description="The entry's id; a YAML entry's id replaces that entry while published."
    )
    variants: dict[str, FaqVariantIn] = Field(
        min_length=1, max_length=20, description="Language code (en, pt-BR) -> its wording."
    )
    tags: list[Annotated[str, StringConstraints(max_length=50)]] = Field([], max_length=10)


class FaqEditIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    variants: dict[str, FaqVariantIn] = Field(
        min_length=1, max_length=20, description="Language code (en, pt-BR) -> its wording."
    )
    tags: list[Annotated[str, StringConstraints(max_length=50)]] | None = Field(None, max_length=10)


class FromReplyIn(BaseModel):
    message_id: int = Field(ge=1, le=MAX_ID, description="An agent reply in a ticket.")


class FromGapIn(BaseModel):
    language: LanguageCode
    questions: list[Phrase] = Field(min_length=1, max_length=20)
    answer: Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)] = Field(
        "", description="E.g. an agent's reply from the gap; empty: to be written."
    )


class FaqEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    entry_id: str
    status: FaqEntryStatus
    variants: dict[str, Any]
    tags: list[str]
    source_ticket_id: int | None
    created_at: datetime
    updated_at: datetime


class FaqRevisionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    action: str
    status: FaqEntryStatus
    agent: AgentOut | None
    variants: dict[str, Any]
