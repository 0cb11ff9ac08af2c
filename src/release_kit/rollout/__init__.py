"""migrate, deploy and rollback: the one-off migration, digest rollouts role by role with no false green, and the
return to the last good images; each drives a platform's engine (:mod:`release_kit.platforms`)."""
