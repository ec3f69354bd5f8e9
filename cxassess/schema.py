"""The data contract: the canonical tables, their columns and types (DESIGN.md §4).

The lowest layer of the package: everything that reads, checks or documents the tables
takes their names and columns from here. ``cxassess schema`` prints it.

Examples
--------
>>> TABLES[:2], REQUIRED["tickets"]
(('tickets', 'events'), ('ticket_id', 'created_at'))
"""

from __future__ import annotations

__all__ = ["DATE_KINDS", "REQUIRED", "SCHEMA", "TABLES"]


TABLES = ("tickets", "events", "surveys", "audits", "customers", "actions")


#: Canonical columns of each table and how they are typed.
SCHEMA: dict[str, dict[str, str]] = {
    "tickets": {
        "ticket_id": "id",
        "created_at": "datetime",
        "channel": "str",
        "priority": "str",
        "category": "str",
        "team": "str",
        "agent_id": "id",
        "customer_id": "id",
        "first_response_at": "datetime",
        "resolved_at": "datetime",
        "closed_at": "datetime",
        "reopens": "int",
        "transfers": "int",
        "agent_replies": "int",
        "handle_minutes": "float",
        "status": "str",
    },
    "events": {
        "ticket_id": "id",
        "timestamp": "datetime",
        "activity": "str",
        "stage": "str",
        "team": "str",
        "agent_id": "id",
    },
    "surveys": {
        "ticket_id": "id",
        "sent_at": "datetime",
        "responded_at": "datetime",
        "kind": "str",
        "scale": "int",
        "score": "float",
        "comment": "str",
        "language": "str",
    },
    "audits": {
        "audit_id": "id",
        "ticket_id": "id",
        "agent_id": "id",
        "criterion": "str",
        "auditor_id": "id",
        "audited_at": "datetime",
        "result": "str",
        "source": "str",
        "session": "str",
    },
    "customers": {
        "customer_id": "id",
        "active_from": "date",
        "active_to": "date",
        "segment": "str",
        "annual_value": "float",
    },
    "actions": {
        "action_id": "id",
        "title": "str",
        "opened_cycle": "str",
        "stage": "str",
        "kpi": "str",
        "owner": "str",
        "status": "str",
        "expected_effect": "float",
        "cost": "float",
        "due": "date",
        "done_at": "date",
    },
}


#: ``datetime`` columns need a full date and a time (``2026-07-01 09:30``); ``date`` columns
#: (customers.active_from/active_to, actions.due/done_at) also accept a full date alone
#: (``2026-07-01``, read as midnight in the dataset's zone). A partial value (``07/2026``,
#: ``2026-07``) is unreadable in both, never completed to the first of the month.
DATE_KINDS = ("datetime", "date")


#: Columns a table cannot do without (bold in DESIGN.md §4).
REQUIRED: dict[str, tuple[str, ...]] = {
    "tickets": ("ticket_id", "created_at"),
    "events": ("ticket_id", "timestamp", "activity"),
    "surveys": ("ticket_id", "sent_at"),
    "audits": ("audit_id", "ticket_id", "agent_id", "criterion"),
    "customers": ("customer_id", "active_from"),
    "actions": ("action_id", "title", "opened_cycle"),
}
