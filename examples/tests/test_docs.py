"""The complete programs in README.md and docs/*.md run as written, against a real restate-server."""

from __future__ import annotations

import re
import types
import uuid
from pathlib import Path

import pytest
from restate_testing import RestateEnvironment

from examples._runner import eventually

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def program(doc: str, marker: str) -> types.ModuleType:
    """Execute the first python block of ``doc`` that contains ``marker``, as a module."""
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / doc).read_text(), re.S)
    source = next(b for b in blocks if marker in b)
    module = types.ModuleType(f"snippet_{Path(doc).stem}")
    exec(compile(source, f"{doc} (snippet)", "exec"), module.__dict__)
    return module


def test_readme_first_service() -> None:
    snippet = program("README.md", "app = restate.app(")
    with RestateEnvironment(snippet.app, backend="binary") as env:
        name = f"Ann-{uuid.uuid4().hex[:6]}"
        assert env.client.call(snippet.greet, name) == f"Hello {name}! (greeting #1)"
        assert env.client.call(snippet.greet, name) == f"Hello {name}! (greeting #2)"


def test_sdk_guide_services_objects_workflows() -> None:
    snippet = program("docs/sdk.md", "app = restate.app(")
    with RestateEnvironment(snippet.app, backend="binary") as env:
        client = env.client
        assert client.call(snippet.greet, "Ann") == "Hello Ann!"
        assert client.call(snippet.add, 2, key="a") == 2
        assert client.call(snippet.add, 3, key="a") == 5
        assert client.call(snippet.current, key="a") == 5
        workflow = client.workflow(snippet.run, "wf-1")
        workflow.submit("ann@example.com")
        workflow.call(snippet.click, "s3cret")
        assert workflow.attach() == "s3cret"


def test_ingress_tour() -> None:
    import restate_sdk as restate

    from examples.greeter.app import counter, greeter
    from examples.signup_workflow.app import click, mailbox, run, signup

    app = restate.app([greeter, counter, signup])
    with RestateEnvironment(app, backend="binary") as env:
        source = next(
            b for b in re.findall(r"```python\n(.*?)```", (ROOT / "docs/ingress.md").read_text(), re.S)
        )
        source = source.replace("http://127.0.0.1:8080", env.ingress_url)
        exec(compile(source, "docs/ingress.md (snippet)", "exec"), {})
        # Let the workflow the tour started finish, so that no invocation is left waiting.
        mails = eventually(lambda: mailbox("dan@example.com"))
        workflow = env.client.workflow(run, "dan")
        workflow.call(click, mails[0].rsplit("secret=", 1)[1])
        assert workflow.attach() is True
