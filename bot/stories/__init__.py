"""Story grouping: one story per event across outlets and languages (pure, deterministic)."""

from .features import features_of
from .group import GroupConfig, Match, StoryIndex, similarity
from .model import StoryFeatures, StoryInput
from .source import CandidateSource, MemorySource

__all__ = [
    "CandidateSource",
    "GroupConfig",
    "Match",
    "MemorySource",
    "StoryFeatures",
    "StoryIndex",
    "StoryInput",
    "features_of",
    "similarity",
]
