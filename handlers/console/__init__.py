"""The console platform: ``adapter`` (the terminal chat of ``kabar demo``, alerts printed) and
``format`` (terminal text)."""
