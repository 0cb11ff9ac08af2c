"""The GitHub token goes to GitHub's own origin only: the fake GitHub on one port, a recording
server on another, and every way an answer can point elsewhere (next links, redirects, URLs)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from release_kit.cli import run_cli
from release_kit.errors import InputError, RemoteError
from release_kit.github.client import GitHubClient
from release_kit.http import RetryPolicy
from release_kit.verify_release import sources
from tests.fakes.clock import FakeClock
from tests.fakes.github import FakeGitHub, serve
from tests.fakes.recorder import Recorder, recording_server

TOKEN = "ghs_PlantedMarkerToken0123456789abcdef"
WORKFLOWS = "/repos/octo-org/app/actions/workflows"


@dataclass
class Origins:
    fake: FakeGitHub
    api: str
    other: Recorder

    def client(self, token: str = TOKEN) -> GitHubClient:
        return GitHubClient(token=token, api_url=self.api, policy=RetryPolicy(clock=FakeClock()))


@pytest.fixture
def origins() -> Iterator[Origins]:
    fake = FakeGitHub()
    with serve(fake) as api, recording_server() as other:
        yield Origins(fake, api, other)


def hostile_links(o: Origins) -> list[str]:
    api_port = httpx.URL(o.api).port
    other_port = httpx.URL(o.other.url).port
    return [
        f"{o.other.url}{WORKFLOWS}?page=2",  # same host, another port
        f"https://127.0.0.1:{api_port}{WORKFLOWS}?page=2",  # another scheme
        f"http://localhost:{api_port}{WORKFLOWS}?page=2",  # another host name
        f"http://127.0.0.1:{api_port}@127.0.0.1:{other_port}{WORKFLOWS}",  # userinfo that looks like the API
        f"//127.0.0.1:{other_port}{WORKFLOWS}?page=2",  # scheme-relative
    ]


@pytest.mark.parametrize("which", range(5))
def test_a_next_link_to_another_origin_is_refused(origins: Origins, which: int) -> None:
    link = hostile_links(origins)[which]
    origins.fake.fail(
        "GET", "/actions/workflows$", 200, body={"workflows": []}, headers={"link": f'<{link}>; rel="next"'}
    )
    with origins.client() as gh, pytest.raises(RemoteError, match="refusing to follow it"):
        list(gh.paginate(WORKFLOWS, key="workflows"))
    assert origins.other.requests == []


def test_next_links_on_the_api_origin_are_followed_with_the_token(origins: Origins) -> None:
    for i in range(150):
        origins.fake.add_workflow(f"wf {i}")
    with origins.client() as gh:
        assert len(list(gh.paginate(WORKFLOWS, key="workflows"))) == 150
    pages = [r for r in origins.fake.requests if r.url.path == WORKFLOWS]
    assert len(pages) == 2 and all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in pages)


def test_verify_gates_stops_at_a_foreign_next_link_with_exit_2(
    origins: Origins, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    origins.fake.add_ref("tags/v1.0.0", "a" * 40)
    link = f"{origins.other.url}{WORKFLOWS}?page=2"
    origins.fake.fail(
        "GET", "/actions/workflows$", 200, body={"workflows": []}, headers={"link": f'<{link}>; rel="next"'}
    )
    monkeypatch.setenv("GITHUB_API_URL", origins.api)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    assert run_cli(["verify-gates", "--repo", "octo-org/app", "--ref", "v1.0.0"]) == 2
    out, err = capsys.readouterr()
    assert len(err.strip().splitlines()) == 1 and "points to http://127.0.0.1:" in err and "Traceback" not in err
    assert TOKEN not in out + err
    assert origins.other.requests == []


def test_a_download_redirected_to_storage_works_without_the_token(origins: Origins) -> None:
    release = origins.fake.add_release("v1.0.0", draft=False)
    asset = origins.fake.add_asset(release, "app.whl", b"on the API")
    stored = origins.other.answer("/storage/app.whl", b"the bytes in storage")
    origins.fake.fail("GET", r"/releases/assets/\d+$", 302, headers={"location": stored})
    with origins.client() as gh:
        digests = sources.download_digests(gh, "/repos/octo-org/app", asset["id"], name="app.whl")
    assert digests["sha256"] == hashlib.sha256(b"the bytes in storage").hexdigest()
    (request,) = origins.other.requests
    assert "authorization" not in request.headers and not origins.other.saw(TOKEN)
    first = origins.fake.requests[-1]
    assert first.headers["authorization"] == f"Bearer {TOKEN}"  # the API itself still gets it


@pytest.mark.parametrize("where", ["other", "api"])
def test_bundle_urls_never_get_the_token_wherever_they_point(origins: Origins, where: str) -> None:
    if where == "other":
        url = origins.other.answer("/bundle.json.sn", b"snappy bytes")
    else:  # even a URL on the API's own origin: a bundle_url is pre-signed and needs none
        url = f"{origins.api}/bundle.json.sn"
        origins.fake.bundle_blobs[url] = b"snappy bytes"  # the fake answers 400 if a token arrives
    with origins.client() as gh:
        assert gh.get_without_token(url, limit=1024) == b"snappy bytes"
    assert not origins.other.saw(TOKEN)


def test_absolute_urls_from_answers_get_the_token_only_on_the_api_origin(origins: Origins) -> None:
    elsewhere = origins.other.answer("/repos/octo-org/app/releases/1/assets", b"{}", status=201)
    with origins.client() as gh:
        gh.request("POST", elsewhere + "?name=app.whl", content=b"asset bytes")  # an upload_url pointing away
        gh.request("GET", f"{origins.api}/repos/octo-org/app")
    assert not origins.other.saw(TOKEN) and "authorization" not in origins.other.requests[0].headers
    assert origins.fake.requests[-1].headers["authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize(
    ("api_url", "url", "gets_token"),
    [
        ("https://api.github.com", "https://api.github.com/repos/o/r", True),
        ("https://api.github.com", "https://API.GitHub.com:443/repos/o/r", True),
        ("https://api.github.com", "https://uploads.github.com/repos/o/r/releases/1/assets", True),
        ("https://api.github.com", "http://api.github.com/repos/o/r", False),
        ("https://api.github.com", "https://api.github.com:8443/repos/o/r", False),
        ("https://api.github.com", "https://uploads.github.com.evil.example/x", False),
        ("https://api.github.com", "https://evil.example/?u=https://api.github.com", False),
        ("https://api.github.com", "https://objects.githubusercontent.com/x", False),
        ("https://ghe.example.com/api/v3", "https://ghe.example.com/api/uploads/repos/o/r", True),
        ("https://ghe.example.com/api/v3", "https://uploads.github.com/repos/o/r", False),
        ("https://ghe.example.com/api/v3", "https://api.github.com/repos/o/r", False),
    ],
)
def test_which_origins_get_the_token(api_url: str, url: str, gets_token: bool) -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    with GitHubClient(token=TOKEN, api_url=api_url, transport=httpx.MockTransport(answer)) as gh:
        gh.request("GET", url)
    assert ("authorization" in seen[0].headers) is gets_token


@pytest.mark.parametrize("raw", [f"{TOKEN}\n", f"  {TOKEN}  ", f"{TOKEN}\r\n", f"\t{TOKEN}"])
def test_a_token_with_surrounding_whitespace_is_stripped(origins: Origins, raw: str) -> None:
    with origins.client(raw) as gh:
        gh.get_json("/repos/octo-org/app")
    assert origins.fake.requests[-1].headers["authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize("raw", ["ghs_two words", "ghs_a\nb", "ghs_esc\x1bx", "ghs_tab\tx", "ghs_n\u00f6n_ascii"])
@pytest.mark.parametrize("variable", ["GITHUB_TOKEN", "RK_TOKEN", "GH_TOKEN"])
def test_a_token_with_inner_whitespace_or_control_characters_is_exit_2(
    origins: Origins, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], raw: str, variable: str
) -> None:
    monkeypatch.setenv("GITHUB_API_URL", origins.api)
    monkeypatch.setenv(variable, raw)
    assert run_cli(["verify-gates", "--repo", "octo-org/app", "--ref", "v1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"release-kit: error: {variable}: the token holds whitespace")
    assert len(err.strip().splitlines()) == 1 and raw not in err
    assert origins.fake.requests == []  # refused before anything was sent, never retried as a network fault
    with pytest.raises(InputError):
        GitHubClient(token=raw, api_url=origins.api)


def test_hostile_storage_answers_end_in_one_clear_error(origins: Origins) -> None:
    loop = origins.other.answer("/loop", b"", status=302, headers={"location": f"{origins.other.url}/loop"})
    huge_error = origins.other.answer("/denied", b"x" * 3_000_000, status=403)
    with origins.client() as gh:
        with pytest.raises(RemoteError, match="redirected in circles"):
            gh.get_without_token(loop, limit=1024)
        with pytest.raises(RemoteError, match="answered 403 to GET /denied"):
            gh.get_without_token(huge_error, limit=1024)
    assert not origins.other.saw(TOKEN)
