"""Telegram (python-telegram-bot): ``adapter`` (sending, commands, polling or webhook) and
``format`` (its HTML)."""
