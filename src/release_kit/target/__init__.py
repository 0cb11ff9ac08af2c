"""Where the services run: the ``deploy:`` section of the config, its resolution with the flags, and the flags."""
