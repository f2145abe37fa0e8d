"""The browser client (`realtime/static/realtime/jobsentinel-ws.js`) and the server speak one
vocabulary: the client's event list and close codes are read by Node from the shipped module
and compared with `realtime.events`, so adding an event type on one side alone fails here."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from realtime.events import EVENT_TYPES, CloseCode

CLIENT = Path(__file__).resolve().parents[2] / "realtime/static/realtime/jobsentinel-ws.js"


@pytest.fixture(scope="module")
def client_constants() -> dict[str, Any]:
    node = shutil.which("node")
    # Node runs the JS client's own tests in `make test` and CI: it is part of the toolchain.
    assert node is not None, "node is needed to read the JS client's constants"
    script = (
        f"import {{ EVENT_TYPES, CLOSE_CODES }} from {json.dumps(CLIENT.as_uri())};\n"
        "console.log(JSON.stringify({ EVENT_TYPES, CLOSE_CODES }))\n"
    )
    result = subprocess.run(
        [node, "--input-type=module", "-e", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    constants: dict[str, Any] = json.loads(result.stdout)
    return constants


def test_the_client_knows_exactly_the_servers_event_types(client_constants: dict) -> None:
    assert client_constants["EVENT_TYPES"] == list(EVENT_TYPES)


def test_close_codes_agree(client_constants: dict) -> None:
    client = client_constants["CLOSE_CODES"]
    shared = set(client) & set(CloseCode.__members__)
    assert {name: client[name] for name in shared} == {
        name: CloseCode[name].value for name in shared
    }
    # Every application close code the server sends has a policy in the client.
    app_codes = {code.name for code in CloseCode if code >= 4000}
    assert app_codes <= set(client)
