"""The subjects of the recurring duties (X-3), wired here because duties import no other domain:
the lines of the data collection plan (R-6.3.5), the metering instruments (R-9.1), compliance
obligations (R-6.2.2), risks and opportunities (R-6.2.1) and the controlled documents due for their
periodic review (R-7.5). `registry()` names them for `policies/duties.yaml`.
"""

from __future__ import annotations

from datetime import date

from cms_workflows.access import COMPANY_WIDE
from cms_workflows.duties.sources import Source, Subject


def plan_items(uow, _until: date) -> list[Subject]:
    from cms_workflows.accounting.queries import plan

    return [Subject(f"{i.site}.{i.id}", i.site, f"{i.site} {i.facility_name or i.facility} {i.material}",
                    position=i.responsible_position) for i in plan(uow)]


def instruments(uow, until: date) -> list[Subject]:
    from cms_workflows.registers.queries import instruments_due

    return [Subject(i.code, i.site, f"{i.code} {i.name}", due=i.next_due) for i in instruments_due(uow, until)]


def obligations(uow, until: date) -> list[Subject]:
    from cms_workflows.registers.queries import obligations_due

    return [Subject(o.code, COMPANY_WIDE, f"{o.code} {o.title}", position=o.owner_position or None, due=o.next_review)
            for o in obligations_due(uow, until)]


def risks(uow, until: date) -> list[Subject]:
    from cms_workflows.registers.queries import risks_due

    return [Subject(r.code, COMPANY_WIDE, f"{r.code} {r.description}".strip()[:200], position=r.owner_position or None,
                    due=r.review_date) for r in risks_due(uow, until)]


def document_reviews(uow, until: date) -> list[Subject]:
    """Active documents whose periodic review falls due by `until` (next_review_due, from the review period)."""
    from sqlmodel import select

    from cms_workflows.documents.models import Document
    from cms_workflows.documents.states import DocumentStatus

    q = (select(Document).where(Document.status == DocumentStatus.ACTIVE, Document.next_review_due != None,  # noqa: E711
                                Document.next_review_due <= until).order_by(Document.number))
    return [Subject(d.number, d.site, f"{d.number} {d.title}"[:200], due=d.next_review_due) for d in uow.exec(q)]


def registry() -> dict[str, Source]:
    return {
        "accounting.plan_items": Source(plan_items),
        "registers.instruments": Source(instruments, dated=True),
        "registers.obligations": Source(obligations, dated=True),
        "registers.risks": Source(risks, dated=True),
        "documents.reviews": Source(document_reviews, dated=True),
    }
