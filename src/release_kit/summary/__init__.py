"""``release-kit summary``: one job summary for a whole deploy or release, from the reports its steps wrote."""
