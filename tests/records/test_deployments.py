"""write_record and the last-good search against the stateful GitHub fake (deployments and statuses)."""

from __future__ import annotations

import json
import re

import pytest

from release_kit.errors import AccessError, ExitCode, InputError, ReleaseKitError, RemoteError
from release_kit.github.client import GitHubClient
from release_kit.records.deployments import (
    NoGoodRecord,
    Record,
    find_last_good,
    require_last_good,
    run_url,
    search_last_good,
    write_record,
)
from tests.fakes.github import FakeGitHub, sha_of
from tests.records.conftest import REPO, deploy, images


def statuses_read(fake: FakeGitHub) -> list[int]:
    return [int(r.url.path.split("/")[-2]) for r in fake.requests if r.url.path.endswith("/statuses")]


def record(version: str = "v1.4.0", state: str = "success", **kw: object) -> Record:
    fields: dict[str, object] = {
        "environment": "production",
        "state": state,
        "ref": version,
        "images": images(version),
        "checks": {"health": "pass", "smoke": "pass"},
        **kw,
    }
    return Record.build(**fields)


# -- writing ------------------------------------------------------------------------------------


def test_write_record_creates_the_deployment_then_its_status(fake: FakeGitHub, client: GitHubClient) -> None:
    fake.add_ref("tags/v1.4.0", sha_of("v1.4.0"))
    log = run_url(
        {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "octo-org/app", "GITHUB_RUN_ID": "77"}
    )
    assert log == "https://github.com/octo-org/app/actions/runs/77"
    result = write_record(client, REPO, record(snapshot="release-kit-v1-4-0-202612011230", log_url=log))

    create, status = (json.loads(r.content) for r in fake.requests if r.method == "POST")
    assert create["ref"] == "v1.4.0" and create["environment"] == "production"
    assert create["task"] == "deploy:release-kit"
    assert create["auto_merge"] is False and create["required_contexts"] == []
    assert create["payload"] == {
        "release_kit": 1,
        "images": images("v1.4.0"),
        "checks": {"health": "pass", "smoke": "pass"},
        "snapshot": "release-kit-v1-4-0-202612011230",
        "rollback_of": None,
        "record_id": create["payload"]["record_id"],  # unique per record: a lost answer is looked up by it
    }
    assert re.fullmatch(r"[0-9a-f]{32}", create["payload"]["record_id"])
    assert status["state"] == "success" and status["log_url"] == log
    assert result.deployment_id == fake.deployments[0]["id"] and result.sha == sha_of("v1.4.0")
    assert fake.deployment_statuses[result.deployment_id][0]["state"] == "success"


def test_a_written_failure_is_never_last_good_and_a_success_is(fake: FakeGitHub, client: GitHubClient) -> None:
    fake.add_ref("tags/v1.3.0", sha_of("v1.3.0"))
    fake.add_ref("tags/v1.4.0", sha_of("v1.4.0"))
    good = write_record(client, REPO, record("v1.3.0"))
    write_record(client, REPO, record("v1.4.0", state="failure"))
    found = find_last_good(client, REPO, "production")
    assert found is not None and found.deployment_id == good.deployment_id and found.images == images("v1.3.0")


def test_a_tag_without_a_digest_is_refused_before_any_request(fake: FakeGitHub) -> None:
    with pytest.raises(InputError, match=r"--image: api=ghcr.io/octo-org/app/api:1.4.0: a tag without a digest"):
        record(images={"api": "ghcr.io/octo-org/app/api:1.4.0"})
    assert fake.requests == []


@pytest.mark.parametrize("status", [403, 404])
def test_no_deployments_write_permission_is_exit_2_naming_it(
    fake: FakeGitHub, client: GitHubClient, status: int
) -> None:
    fake.add_ref("tags/v1.4.0", sha_of("v1.4.0"))
    fake.fail("POST", r"/deployments$", status, body={"message": "Resource not accessible by integration"})
    with pytest.raises(AccessError) as caught:
        write_record(client, REPO, record())
    assert caught.value.exit_code == ExitCode.USAGE
    assert "deployments: write" in caught.value.one_line()
    assert "Resource not accessible by integration" in caught.value.one_line()


def test_an_unknown_ref_is_exit_2_naming_it(fake: FakeGitHub, client: GitHubClient) -> None:
    with pytest.raises(InputError, match=r"--ref 'v9.9.9': GitHub cannot create a deployment for it \(422 No ref"):
        write_record(client, REPO, record("v9.9.9"))


def test_the_merged_branch_answer_creates_nothing_and_is_exit_2(fake: FakeGitHub, client: GitHubClient) -> None:
    fake.add_ref("tags/v1.4.0", sha_of("v1.4.0"))
    fake.fail_with_fixture("POST", r"/deployments$", "POST_repos_deployments.202.merged_branch.json")
    with pytest.raises(RemoteError, match=r"202 .* without creating a deployment \(Auto-merged master") as caught:
        write_record(client, REPO, record())
    assert caught.value.exit_code == ExitCode.USAGE
    assert fake.deployments == [] and fake.count(r"/statuses$") == 0


def test_a_conflict_is_exit_2(fake: FakeGitHub, client: GitHubClient) -> None:
    fake.add_ref("tags/v1.4.0", sha_of("v1.4.0"))
    fake.fail("POST", r"/deployments$", 409, body={"message": "Conflict merging main into v1.4.0."})
    with pytest.raises(RemoteError, match="409 Conflict merging") as caught:
        write_record(client, REPO, record())
    assert caught.value.exit_code == ExitCode.USAGE


def test_a_status_that_cannot_be_written_names_the_deployment_and_is_not_resent(
    fake: FakeGitHub, client: GitHubClient
) -> None:
    fake.add_ref("tags/v1.4.0", sha_of("v1.4.0"))
    fake.fail("POST", r"/statuses$", 502, body={"message": "Server Error"})
    with pytest.raises(ReleaseKitError, match=r"deployment \d+ was created but its status was not written") as caught:
        write_record(client, REPO, record())
    assert caught.value.exit_code == ExitCode.REMOTE
    posts = [r.url.path for r in fake.requests if r.method == "POST"]
    assert len([p for p in posts if p.endswith("/statuses")]) == 1 and len(posts) == 2  # looked up, never re-sent


# -- the last-good search ------------------------------------------------------------------------


def test_a_failed_latest_deploy_gives_the_previous_success(fake: FakeGitHub, client: GitHubClient) -> None:
    deploy(fake, "v1.3.0", "success")
    good = deploy(fake, "v1.4.0", "success", snapshot="release-kit-v1-4-0-202611301200")
    newest = deploy(fake, "v1.5.0", "failure")
    search = search_last_good(client, REPO, "production")
    assert search.found is not None
    assert (search.found.deployment_id, search.found.ref) == (good, "v1.4.0")
    assert search.found.images == images("v1.4.0")
    assert search.found.snapshot == "release-kit-v1-4-0-202611301200"
    assert search.newest is not None and search.newest.ref == "v1.5.0"
    assert newest not in statuses_read(fake)  # the newest record is never a candidate


def test_a_success_later_marked_inactive_still_counts(fake: FakeGitHub, client: GitHubClient) -> None:
    older = deploy(fake, "v1.3.0", "success")
    deploy(fake, "v1.4.0", "success")  # auto_inactive marks v1.3.0 inactive
    assert [s["state"] for s in fake.deployment_statuses[older]] == ["success", "inactive"]
    found = find_last_good(client, REPO, "production")
    assert found is not None and found.deployment_id == older


def test_the_newest_records_images_are_skipped_even_when_recorded_again(fake: FakeGitHub, client: GitHubClient) -> None:
    good = deploy(fake, "v1.3.0", "success")
    deploy(fake, "v1.4.0", "success")
    again = deploy(fake, "v1.4.0", "success")  # the same images deployed a second time
    search = search_last_good(client, REPO, "production")
    assert search.found is not None and search.found.deployment_id == good
    assert [s.reason for s in search.skipped] == [
        "the newest record (its images were deployed last)",
        "same images as the newest record",
    ]
    assert search.skipped[0].deployment_id == again


def test_a_rollback_record_skips_the_images_it_replaced(fake: FakeGitHub, client: GitHubClient) -> None:
    deploy(fake, "v1.3.0", "success")
    v14 = deploy(fake, "v1.4.0", "success")
    v15 = deploy(fake, "v1.5.0", "success")
    deploy(fake, "v1.4.0", "success", rollback_of=v15)  # v1.5.0 went bad after its checks; rolled back to v1.4.0
    search = search_last_good(client, REPO, "production")
    assert search.found is not None and search.found.ref == "v1.3.0"
    reasons = {s.deployment_id: s.reason for s in search.skipped}
    assert reasons[v15].startswith("rolled back by deployment") and reasons[v14] == "same images as the newest record"


def test_failed_checks_are_never_good(fake: FakeGitHub, client: GitHubClient) -> None:
    good = deploy(fake, "v1.2.0", "success")
    bad = deploy(fake, "v1.3.0", "success", checks={"health": "pass", "smoke": "fail"})
    deploy(fake, "v1.4.0", "failure")
    search = search_last_good(client, REPO, "production")
    assert search.found is not None and search.found.deployment_id == good
    assert bad not in statuses_read(fake)  # judged from the payload alone
    assert any(s.reason == "check(s) failed: smoke" for s in search.skipped)


def test_foreign_deployments_are_ignored(fake: FakeGitHub, client: GitHubClient) -> None:
    good = deploy(fake, "v1.3.0", "success")
    deploy(fake, "v1.4.0", "failure")
    for i in range(5):  # `environment:` jobs, and lookalikes without release-kit's payload
        fake.add_deployment(f"main-{i}", task="deploy", payload={})
        fake.add_deployment_status(fake.deployments[-1], "success")
    fake.add_deployment("v9.0.0", task="deploy:release-kit", payload='{"deploy": "migrate"}')
    fake.add_deployment("v9.0.1", task="deploy:release-kit", payload="{not json")
    fake.add_deployment("v9.0.2", task="deploy:release-kit", payload={"release_kit": 1, "images": {"api": "a:1"}})
    for dep in fake.deployments[-3:]:
        fake.add_deployment_status(dep, "success")
    deploy(fake, "v1.4.0", "success", environment="staging")  # another environment
    search = search_last_good(client, REPO, "production")
    assert search.found is not None and search.found.deployment_id == good
    assert search.records_read == 2 and search.deployments_read == 5
    assert statuses_read(fake) == [good]


def test_a_payload_sent_as_a_json_string_is_read(fake: FakeGitHub, client: GitHubClient) -> None:
    good = deploy(fake, "v1.3.0", "success", as_string=True)
    deploy(fake, "v1.4.0", "failure", as_string=True)
    found = find_last_good(client, REPO, "production")
    assert found is not None and found.deployment_id == good and found.images == images("v1.3.0")


def test_more_than_100_deployments_are_all_read(fake: FakeGitHub, client: GitHubClient) -> None:
    good = deploy(fake, "v1.0.0", "success")
    for i in range(130):  # each failed its smoke test: skipped from the payload, no statuses read
        deploy(fake, f"v1.1.{i}", "success", checks={"smoke": "fail"})
    deploy(fake, "v1.2.0", "failure")
    search = search_last_good(client, REPO, "production")
    assert search.found is not None and search.found.deployment_id == good
    assert search.deployments_read == 132
    assert fake.count(r"/deployments$") == 2  # pages of 100, Link followed
    assert statuses_read(fake) == [good]


def test_a_deployment_with_more_than_100_statuses_is_read_to_its_first_page(
    fake: FakeGitHub, client: GitHubClient
) -> None:
    good = deploy(fake, "v1.3.0", "success")
    for _ in range(104):
        fake.add_deployment_status(good, "inactive")
    deploy(fake, "v1.4.0", "failure")
    found = find_last_good(client, REPO, "production")
    assert found is not None and found.deployment_id == good
    pages = [r for r in fake.requests if r.url.path.endswith(f"/{good}/statuses")]
    assert len(pages) == 2 and pages[0].url.params["per_page"] == "100"  # GitHub's default is 30


def test_statuses_are_read_newest_first_in_small_batches_and_the_search_stops(
    fake: FakeGitHub, client: GitHubClient
) -> None:
    for i in range(20):
        deploy(fake, f"v1.0.{i}", "success")
    failed = [deploy(fake, f"v1.1.{i}", "failure") for i in range(6)]
    deploy(fake, "v1.2.0", "failure")
    search = search_last_good(client, REPO, "production")
    assert search.found is not None and search.found.ref == "v1.0.19"
    read = statuses_read(fake)
    assert len(read) == 8 and set(failed) < set(read)  # two batches of four; the older 19 are never read


def test_to_gives_the_newest_good_record_of_that_ref(fake: FakeGitHub, client: GitHubClient) -> None:
    deploy(fake, "v1.3.0", "success")
    wanted = deploy(fake, "v1.3.0", "success", checks={"health": "pass"})
    deploy(fake, "v1.3.0", "failure")
    deploy(fake, "v1.4.0", "success")
    search = search_last_good(client, REPO, "production", to_ref="v1.3.0")
    assert search.found is not None and search.found.deployment_id == wanted
    assert all(r.url.params.get("ref") == "v1.3.0" for r in fake.requests if r.url.path.endswith("/deployments"))


@pytest.mark.parametrize("length", [12, 40])
def test_to_a_commit_sha_matches_the_deployed_commit(fake: FakeGitHub, client: GitHubClient, length: int) -> None:
    wanted = deploy(fake, "v1.3.0", "success")
    deploy(fake, "v1.4.0", "success")
    found = find_last_good(client, REPO, "production", to_ref=sha_of("ref:v1.3.0")[:length])
    assert found is not None and found.deployment_id == wanted


def test_no_good_record_names_what_was_searched(fake: FakeGitHub, client: GitHubClient) -> None:
    deploy(fake, "v1.3.0", "failure")
    deploy(fake, "v1.4.0", "success")
    fake.add_deployment("main", task="deploy")
    search = search_last_good(client, REPO, "production")
    assert search.found is None
    with pytest.raises(NoGoodRecord) as caught:
        require_last_good(search)
    assert caught.value.exit_code == ExitCode.NOT_OK
    assert caught.value.one_line() == (
        "no last good record in environment 'production' of octo-org/app: read 2 deployment(s) with task "
        "deploy:release-kit, 2 carrying release-kit's payload, statuses of 1"
    )


def test_no_deployments_read_permission_is_exit_2_naming_it(fake: FakeGitHub, client: GitHubClient) -> None:
    fake.fail("GET", r"/deployments$", 403, body={"message": "Resource not accessible by integration"})
    with pytest.raises(AccessError, match="deployments: read"):
        search_last_good(client, REPO, "production")


def test_a_422_that_is_not_about_the_ref_names_the_deployment(fake: FakeGitHub, client: GitHubClient) -> None:
    fake.add_ref("tags/v1.4.0", sha_of("v1.4.0"))
    fake.fail("POST", r"/deployments$", 422, body={"message": "Validation Failed", "errors": [{"code": "invalid"}]})
    with pytest.raises(InputError, match=r"GitHub refused the deployment of 'v1.4.0' to 'production' \(422 Valid"):
        write_record(client, REPO, record())


def test_a_deployment_deleted_during_the_search_is_not_good(fake: FakeGitHub, client: GitHubClient) -> None:
    good = deploy(fake, "v1.3.0", "success")
    gone = deploy(fake, "v1.4.0", "success")
    deploy(fake, "v1.5.0", "failure")
    fake.fail("GET", rf"/deployments/{gone}/statuses$", 404, body={"message": "Not Found"})
    search = search_last_good(client, REPO, "production")
    assert search.found is not None and search.found.deployment_id == good
    assert any(s.deployment_id == gone and s.reason == "no status" for s in search.skipped)
