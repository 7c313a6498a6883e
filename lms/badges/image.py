"""The badge image: an SVG medal with the certification's title, coloured by area."""
from __future__ import annotations

import textwrap
from xml.etree import ElementTree as ET  # nosec B405  # only builds and serialises the SVG; nothing is parsed

SVG = "http://www.w3.org/2000/svg"
AREA_COLOURS = {"producto": "#1f6feb", "proceso": "#2e7d32", "tecnica": "#6a1b9a", "soft-skills": "#c2185b", "liderazgo": "#e65100"}
DEFAULT_COLOUR = "#37474f"


def _wrap(title: str, width: int = 16, lines: int = 3) -> list[str]:
    wrapped = textwrap.wrap(title, width=width) or [""]
    if len(wrapped) > lines:
        wrapped = wrapped[:lines]
        wrapped[-1] = wrapped[-1][: width - 1].rstrip() + "…"
    return wrapped


def badge_svg(title: str, area: str, issuer_name: str) -> bytes:
    """A 400×400 SVG: a ribbon-rimmed disc, the title in up to three lines, the issuer at the foot."""
    colour = AREA_COLOURS.get(area, DEFAULT_COLOUR)
    root = ET.Element("svg", {"xmlns": SVG, "width": "400", "height": "400", "viewBox": "0 0 400 400", "role": "img"})
    ET.SubElement(root, "title").text = title
    ET.SubElement(root, "circle", {"cx": "200", "cy": "200", "r": "190", "fill": colour})
    ET.SubElement(root, "circle", {"cx": "200", "cy": "200", "r": "165", "fill": "#ffffff"})
    ET.SubElement(root, "circle", {"cx": "200", "cy": "200", "r": "155", "fill": "none", "stroke": colour, "stroke-width": "4"})
    font = {"font-family": "DejaVu Sans, Arial, Helvetica, sans-serif", "text-anchor": "middle"}
    ET.SubElement(root, "text", {**font, "x": "200", "y": "125", "font-size": "44", "fill": colour, "font-weight": "bold"}).text = "✔"
    lines = _wrap(title)
    top = 205 - (len(lines) - 1) * 17
    for n, line in enumerate(lines):
        ET.SubElement(root, "text", {**font, "x": "200", "y": str(top + n * 34), "font-size": "28", "font-weight": "bold",
                                     "fill": "#1b1b1b"}).text = line
    ET.SubElement(root, "text", {**font, "x": "200", "y": "300", "font-size": "16", "fill": colour}).text = _wrap(issuer_name, 30, 1)[0]
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
