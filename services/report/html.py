"""One self-contained HTML file: plots and gallery inlined as PNG data URIs."""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field


@dataclass
class Page:
    """An HTML report assembled section by section."""

    title: str
    parts: list[str] = field(default_factory=list)

    def heading(self, text: str) -> None:
        self.parts.append(f"<h2>{html.escape(text)}</h2>")

    def subheading(self, text: str) -> None:
        self.parts.append(f"<h3>{html.escape(text)}</h3>")

    def paragraph(self, text: str) -> None:
        self.parts.append(f"<p>{html.escape(text)}</p>")

    def image(self, png: bytes, alt: str, caption: str = "", *, gallery: bool = False) -> None:
        data = base64.b64encode(png).decode("ascii")
        cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
        style = ' class="tile"' if gallery else ""
        self.parts.append(f'<figure{style}><img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">{cap}'
                          "</figure>")

    def table(self, header: list[str], rows: list[list[str]]) -> None:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
        body = "".join("<tr>" + "".join(_cell(c) for c in r) + "</tr>" for r in rows)
        self.parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")

    def render(self) -> str:
        return (
            "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{html.escape(self.title)}</title><style>{_CSS}</style></head><body>"
            f"<h1>{html.escape(self.title)}</h1>{''.join(self.parts)}</body></html>\n"
        )


def _cell(text: str) -> str:
    """A number right-aligned, a sentence (over 40 characters) left-aligned and wide enough to read."""
    return f'<td class="text">{html.escape(text)}</td>' if len(text) > 40 else f"<td>{html.escape(text)}</td>"


_CSS = (
    "body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;color:#222}"
    "figure{margin:1em 0}img{max-width:100%;border:1px solid #ddd}"
    "figcaption{font-size:.85em;color:#555}table{border-collapse:collapse;margin:1em 0}"
    "td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right;vertical-align:top}th{background:#f3f3f3}"
    "table{font-size:.8em}td.text{text-align:left;min-width:24em}"
    "figure.tile{display:inline-block;width:48%;margin:.5em 1% .5em 0;vertical-align:top}"
)
