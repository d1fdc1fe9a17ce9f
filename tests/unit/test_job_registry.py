"""Every job a service can name has a task; a name that is not a declared job fails at once."""
import ast
import pathlib

import pytest
from sqlalchemy.orm import Session

from app.services.shared import jobs
from app.services.shared.jobs import Job
from app.tasks import registry

SERVICES = pathlib.Path(__file__).resolve().parents[2] / "app" / "services"


def test_every_declared_job_has_a_registered_task():
    assert set(registry.JOBS) == set(Job)


def test_a_job_without_a_task_fails_the_registry_check(monkeypatch):
    monkeypatch.delitem(registry.JOBS, Job.SEND_EMAIL)
    with pytest.raises(RuntimeError, match="send_email"):
        registry.check_registry()


def test_a_misspelt_job_name_is_refused_when_the_service_names_it():
    with pytest.raises(TypeError, match="send_emial"):
        jobs.after_commit(Session(), "send_emial", 1)


def test_services_name_jobs_only_through_the_job_enum():
    offenders = []
    for path in SERVICES.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "after_commit" and len(node.args) >= 2):
                job = node.args[1]
                ok = (isinstance(job, ast.Attribute) and isinstance(job.value, ast.Attribute)
                      and job.value.attr == "Job" and job.attr in Job.__members__)
                if not ok:
                    offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []
