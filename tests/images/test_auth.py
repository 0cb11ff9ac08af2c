"""Basic and Bearer authentication against real registries on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest

from release_kit.errors import AccessError
from release_kit.images.distribution import DistributionClient
from release_kit.images.layout import read_image
from release_kit.images.push import MountSources, push_image
from tests.images.images import oci_layout, random_layer
from tests.images.server import PASSWORD, USER, TokenServer, registry


def test_htpasswd_basic_auth(tmp_path: Path) -> None:
    image = read_image(oci_layout(tmp_path / "img", [random_layer(2000)]))
    with registry(tmp_path / "reg", auth="htpasswd") as url:
        digest, counts = push_image(
            DistributionClient(url, username=USER, password=PASSWORD), "org/app/api", image, ["1"]
        )
        assert digest == image.digest and counts.uploaded == 2
        with pytest.raises(AccessError, match="answered 401") as info:
            push_image(DistributionClient(url, username=USER, password="Wr0ng-Pa55word"), "org/app/api", image, ["1"])
        assert "Wr0ng-Pa55word" not in info.value.one_line()
        with pytest.raises(AccessError) as anonymous:
            push_image(DistributionClient(url), "org/app/api", image, ["1"])
        assert "missing or wrong credentials" in anonymous.value.one_line()


def test_token_auth_asks_for_push_and_mounts_with_pull_on_the_source(tmp_path: Path) -> None:
    tokens = TokenServer()
    base = [random_layer(3000)]
    api = read_image(oci_layout(tmp_path / "api", [*base, random_layer(10)]))
    web = read_image(oci_layout(tmp_path / "web", [*base, random_layer(20)]))
    with tokens.serve(), registry(tmp_path / "reg", auth="token", tokens=tokens) as url:
        client = DistributionClient(url, username=USER, password=PASSWORD)
        sources = MountSources()
        push_image(client, "org/app/api", api, ["1"], sources=sources)
        _, counts = push_image(client, "org/app/web", web, ["1"], sources=sources)
        assert counts.mounted == 2 and counts.uploaded == 1
        assert "repository:org/app/api:pull,push" in tokens.scopes
        assert "repository:org/app/web:pull,push" in tokens.scopes
        assert "repository:org/app/api:pull" in tokens.scopes  # asked with the mount's target scope
        assert len(tokens.requests) == len(set(tokens.requests)) == 3  # one token per scope set, cached
        with pytest.raises(AccessError, match="refused the credentials"):
            push_image(DistributionClient(url, username=USER, password="nope"), "org/x", api, ["1"])
