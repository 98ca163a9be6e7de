"""The bench grows a database the way the IISG's would be after years of Board decisions: each
finished silent procedure it clones has its own decision record, with every seat's answer, so
that the decision register is measured holding them."""

from __future__ import annotations

from sqlalchemy import func, select

from bench.pages import CLONE_KEY, History
from bench.procedures import deploy
from models import Decision, DecisionAnswer, ProcessInstance
from tests.conftest import Database
from workflows.people.roles import BOARD_SEATS


def test_each_cloned_silent_procedure_has_its_own_decision_with_its_answers(db: Database) -> None:
    deploy(db.factory)
    history = History(db.factory)
    history.grow(40)

    with db.session() as session:
        clones = set(
            session.scalars(
                select(ProcessInstance.id).where(ProcessInstance.business_key == CLONE_KEY)
            )
        )
        decided = dict(
            session.execute(
                select(Decision.instance_id, Decision.id).where(Decision.instance_id.in_(clones))
            ).all()
        )
        finished = session.scalars(
            select(ProcessInstance.id).where(
                ProcessInstance.id.in_(clones), ProcessInstance.status == "completed"
            )
        ).all()
        answers_of_finished = session.scalars(
            select(func.count(DecisionAnswer.id))
            .where(DecisionAnswer.decision_id.in_([decided[i] for i in finished]))
            .group_by(DecisionAnswer.decision_id)
        ).all()

    assert len(clones) == 40 - 12
    assert set(decided) == clones
    assert len(finished) == 26
    assert answers_of_finished == [len(BOARD_SEATS)] * len(finished)
