"""Slack (slack-bolt): ``adapter`` (sending, the ``/kabar`` command, HTTP or Socket Mode),
``format`` (Block Kit and mrkdwn escaping) and ``replay`` (the request guard)."""
