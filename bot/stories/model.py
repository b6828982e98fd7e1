"""Plain data of the story grouper: what goes in, what is stored per article."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from store.models import StoryFeatures


@dataclass(frozen=True)
class StoryInput:
    """One article as the grouper sees it. ``published`` must be timezone-aware (UTC)."""

    id: int
    title: str
    text: str
    lang: str  # "id" | "en" | "other"
    source: str
    published: datetime


__all__ = ["StoryFeatures", "StoryInput"]
