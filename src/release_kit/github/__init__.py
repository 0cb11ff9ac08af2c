"""GitHub REST access shared by every capability."""

from release_kit.github.client import GitHubClient, GitHubError, RepoName, parse_repo

__all__ = ["GitHubClient", "GitHubError", "RepoName", "parse_repo"]
