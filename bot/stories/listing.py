"""Stories as the CLI shows them (``kabar stories [--json]``): pure functions of stored rows."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence

from bot.alerts.alert import format_time, source_name
from bot.alerts.sentence import first_sentence
from store.models import Article, StoryRow

TITLE_LIMIT = 140


def article_title(article: Article) -> str:
    """The article's title, or (the wire's untitled shape) its first sentence."""
    return " ".join(article.title.split()) or first_sentence(article.text, TITLE_LIMIT)


def story_title(articles: Sequence[Article]) -> str:
    """The title of the story's first article that has one of its own, else the first
    article's first sentence."""
    titled = [a for a in articles if a.title.strip()]
    return article_title(titled[0] if titled else articles[0]) if articles else ""


def story_dict(story: StoryRow) -> dict[str, object]:
    return {
        "story": str(story.story_id),
        "title": story_title(story.articles),
        "articles": [
            {
                "url": a.url,
                "source": a.source,
                "lang": a.lang,
                "published": (a.published or a.ingested_at).isoformat(),
                "title": article_title(a),
            }
            for a in story.articles
        ],
    }


def stories_json(stories: Iterable[StoryRow]) -> str:
    """One JSON array, newest story first (the order given)."""
    return json.dumps([story_dict(s) for s in stories], ensure_ascii=False, indent=2)


def stories_text(stories: Iterable[StoryRow], timezone: str) -> Iterator[str]:
    """Per story: ``#id  title  (N articles, M sources)``, then one line per article."""
    for story in stories:
        sources = {source_name(a.source) or "?" for a in story.articles}
        yield (
            f"#{story.story_id}  {story_title(story.articles)}  ({len(story.articles)}"
            f" article{'s' * (len(story.articles) != 1)}, {len(sources)}"
            f" source{'s' * (len(sources) != 1)})"
        )
        for a in story.articles:
            when = format_time(a.published or a.ingested_at, "en", timezone)
            where = f"  {a.url}" if a.url else ""
            name = source_name(a.source) or "?"
            yield f"    [{a.lang}] {name} · {when} · {article_title(a)}{where}"
