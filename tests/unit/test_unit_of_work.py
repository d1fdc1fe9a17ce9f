"""`committing`: a use case's change is committed whole, or rolled back whole and re-raised."""
import pytest
from sqlalchemy import Integer, String, create_engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from app.services.shared.errors import InvalidTransition
from app.services.shared.unit_of_work import committing


class _Base(DeclarativeBase):
    pass


class Note(_Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(String(20), unique=True)


@pytest.fixture()
def engine():
    engine = create_engine("sqlite://")
    _Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


def _texts(engine) -> list[str]:
    with Session(engine) as other:
        return list(other.scalars(select(Note.text).order_by(Note.id)))


def test_a_change_that_finishes_is_committed(engine):
    session = Session(engine)
    with committing(session):
        session.add(Note(text="kept"))
    assert _texts(engine) == ["kept"]


def test_a_refusal_rolls_back_everything_and_reaches_the_caller(engine):
    session = Session(engine)
    with pytest.raises(InvalidTransition, match="changed meanwhile"):
        with committing(session):
            session.add(Note(text="first"))
            session.flush()
            raise InvalidTransition("This booking was changed meanwhile.")
    assert _texts(engine) == []
    assert not session.in_transaction()


def test_a_constraint_broken_at_commit_rolls_back_and_leaves_the_session_usable(engine):
    session = Session(engine)
    with committing(session):
        session.add(Note(text="taken"))
    with pytest.raises(IntegrityError):
        with committing(session):
            session.add(Note(text="other"))
            session.add(Note(text="taken"))  # flushed only by the COMMIT
    with committing(session):
        session.add(Note(text="after"))
    assert _texts(engine) == ["taken", "after"]


def test_returning_from_inside_the_block_commits(engine):
    def add() -> Note:
        session = Session(engine)
        with committing(session):
            note = Note(text="returned")
            session.add(note)
            return note

    add()
    assert _texts(engine) == ["returned"]
