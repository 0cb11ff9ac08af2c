"""Cloud SDK clients (extras ``aws`` and ``azure``): one client, one retry budget and one error mapping each."""
