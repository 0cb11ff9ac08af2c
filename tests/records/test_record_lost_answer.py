"""record when GitHub's answer is lost after it acted (a 5xx, or the connection reset after sending):
the deployment is looked up by the payload's record_id before anything is sent again, so one
`record` makes one deployment, whatever the network does."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from release_kit.errors import ExitCode, ReleaseKitError
from release_kit.github.client import GitHubClient
from release_kit.http import RetryPolicy
from release_kit.records.deployments import Record, write_record
from tests.fakes.clock import FakeClock
from tests.fakes.github import FakeGitHub, sha_of
from tests.records.conftest import REPO, TOKEN, images

DEPLOYMENTS = re.compile(r"/deployments$")
STATUSES = re.compile(r"/deployments/\d+/statuses$")


class LosingGitHub(FakeGitHub):
    """GitHub that performs matching POSTs and then loses the answer: a 500, or a reset connection."""

    lose: dict[re.Pattern[str], tuple[int, str]]

    def __init__(self) -> None:
        super().__init__()
        self.lose = {}

    def losing(self, pattern: re.Pattern[str], times: int, how: str = "500") -> None:
        self.lose[pattern] = (times, how)

    def handle(self, request: httpx.Request) -> httpx.Response:
        response = super().handle(request)  # GitHub acts first
        for pattern, (times, how) in self.lose.items():
            if request.method == "POST" and pattern.search(request.url.path) and times > 0:
                self.lose[pattern] = (times - 1, how)
                if how == "reset":
                    raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
                return self._json(500, {"message": "Server Error"})
        return response


ALWAYS = 10**6


@pytest.fixture
def github() -> LosingGitHub:
    fake = LosingGitHub()
    fake.add_ref("tags/v1.4.0", sha_of("v1.4.0"))
    return fake


@pytest.fixture
def client(github: LosingGitHub) -> Iterator[GitHubClient]:
    gh = GitHubClient(token=TOKEN, transport=github.transport(), policy=RetryPolicy(clock=FakeClock()))
    yield gh
    gh.close()


def entry() -> Record:
    return Record.build(environment="production", state="success", ref="v1.4.0", images=images("v1.4.0"))


def posts(fake: FakeGitHub, pattern: re.Pattern[str]) -> int:
    return sum(1 for r in fake.requests if r.method == "POST" and pattern.search(r.url.path))


@pytest.mark.parametrize("times", [1, ALWAYS], ids=["lost-once", "lost-always"])
@pytest.mark.parametrize("how", ["500", "reset"])
def test_a_deployment_post_whose_answer_is_lost_is_found_and_never_sent_twice(
    github: LosingGitHub, client: GitHubClient, times: int, how: str, capsys: pytest.CaptureFixture[str]
) -> None:
    github.losing(DEPLOYMENTS, times, how)
    record = entry()

    result = write_record(client, REPO, record)

    assert len(github.deployments) == 1  # exactly one record
    assert posts(github, DEPLOYMENTS) == 1  # found by its record_id: never re-sent
    only = github.deployments[0]
    assert result.deployment_id == only["id"] and only["payload"]["record_id"] == record.record_id
    assert [s["state"] for s in github.deployment_statuses[only["id"]]] == ["success"]
    assert "was lost" in capsys.readouterr().err


def test_a_post_that_never_landed_is_sent_once_more_after_the_look_up(
    github: LosingGitHub, client: GitHubClient
) -> None:
    github.fail("POST", r"/deployments$", 502, body={"message": "Bad Gateway"})  # answered without acting

    result = write_record(client, REPO, entry())

    assert len(github.deployments) == 1 and posts(github, DEPLOYMENTS) == 2
    assert result.deployment_id == github.deployments[0]["id"]


def test_a_post_that_never_lands_gives_up_with_exit_3_after_two_sends(
    github: LosingGitHub, client: GitHubClient
) -> None:
    github.fail("POST", r"/deployments$", 503, body={"message": "Unavailable"}, times=ALWAYS)

    with pytest.raises(ReleaseKitError, match="holds no deployment with this record's id") as caught:
        write_record(client, REPO, entry())

    assert caught.value.exit_code == ExitCode.REMOTE
    assert github.deployments == [] and posts(github, DEPLOYMENTS) == 2


@pytest.mark.parametrize("how", ["500", "reset"])
def test_a_status_whose_answer_is_lost_is_found_and_not_sent_again(
    github: LosingGitHub, client: GitHubClient, how: str
) -> None:
    github.losing(STATUSES, ALWAYS, how)

    result = write_record(client, REPO, entry())

    (only,) = github.deployments
    assert [s["state"] for s in github.deployment_statuses[only["id"]]] == ["success"]
    assert posts(github, STATUSES) == 1 and result.status_id == github.deployment_statuses[only["id"]][0]["id"]


def test_two_records_of_one_release_are_two_deployments(github: LosingGitHub, client: GitHubClient) -> None:
    """The look-up matches this record's own id, not any record of the same ref and environment."""
    write_record(client, REPO, entry())
    github.losing(DEPLOYMENTS, 1)
    write_record(client, REPO, entry())
    assert len(github.deployments) == 2
