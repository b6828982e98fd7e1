"""Log lines: level and format from the config (`log_level`, `log_format`), configured secrets
redacted from every record, APScheduler's per-job chatter only at debug."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import quote

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
QUIET_LOGGERS = ("apscheduler",)  # "Running job ..." / "... executed successfully" per tick
# httpx logs every request URL at INFO, and a Bot API URL contains the token: it is redacted,
# and shown at all only at debug.
HTTP_LOGGERS = ("httpx",)
MASK = "***"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RedactSecrets(logging.Filter):
    """Replaces every configured secret (and its URL-encoded form) by ``***`` in the message,
    the exception text and the stack of each record that passes the handler it is on."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        forms = set()
        for secret in secrets:
            if secret:
                forms.update({secret, quote(secret, safe=""), quote(secret)})
        self.forms = sorted(forms, key=len, reverse=True)  # longest first

    def redact(self, text: str) -> str:
        for form in self.forms:
            text = text.replace(form, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.forms:
            return True
        message = record.getMessage()
        clean = self.redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message (and the
    exception text when there is one)."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False)


class _SkippedRunFilter(logging.Filter):
    """A job still running at its next tick is skipped by design (max_instances=1; the service
    runs a pass again itself when asked while one runs): APScheduler's warning for it is
    chatter, shown at debug only."""

    def filter(self, record: logging.LogRecord) -> bool:
        skipped = "maximum number of running instances reached" in record.getMessage()
        return not skipped or logging.getLogger().isEnabledFor(logging.DEBUG)


_SKIPPED_RUN_FILTER = _SkippedRunFilter()
_HANDLER_NAME = "kabar"


def configure_logging(
    level: int = logging.INFO, fmt: str = "text", secrets: Iterable[str] = ()
) -> logging.Handler:
    """Log lines to stderr at ``level`` in ``fmt`` ("text" or "json"), with ``secrets``
    redacted; APScheduler's per-job chatter and httpx's request lines only at debug.
    Calling it again replaces Kabar's handler (never two handlers, never a duplicate line)."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    redactor = RedactSecrets(secrets)
    handler.addFilter(redactor)
    root.addHandler(handler)
    root.setLevel(level)
    for other in root.handlers:  # e.g. pytest's capture handler: redacted as well
        if other is not handler and not any(isinstance(f, RedactSecrets) for f in other.filters):
            other.addFilter(redactor)
    quiet = max(level, logging.WARNING) if level > logging.DEBUG else logging.NOTSET
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(quiet)
    for name in HTTP_LOGGERS:
        logging.getLogger(name).setLevel(
            logging.DEBUG if level <= logging.DEBUG else max(level, logging.WARNING)
        )
    logging.getLogger("apscheduler.scheduler").addFilter(_SKIPPED_RUN_FILTER)
    return handler


def redact_last_resort(secrets: Iterable[str]) -> None:
    """Commands that configure no logging (check, ingest...) print warnings through
    ``logging.lastResort``: redact there too."""
    if logging.lastResort is not None:
        logging.lastResort.addFilter(RedactSecrets(secrets))
