"""adopt reads the title and description of real READMEs (tutorkit.readme, pure functions)."""

from __future__ import annotations

import pytest

from tutorkit.readme import shorten, summarise

CASES = {
    "blank lines, then a level-2 heading": (
        "\n\n## Transformers from Scratch\n\nBuild a small GPT, one notebook at a time.\n",
        "Transformers from Scratch",
        "Build a small GPT, one notebook at a time.",
    ),
    "YAML front matter, badges, a paragraph over two lines": (
        "---\ntitle: ignored\nlayout: page\n---\n# Diffusion Models\n\n"
        "[![CI](https://x.invalid/b.svg)](https://x.invalid) [![Colab](c.svg)](c)\n\n"
        "Companion code for the *diffusion* article,\nwith [notebooks](nb/).\n",
        "Diffusion Models",
        "Companion code for the diffusion article, with notebooks.",
    ),
    "an HTML title and an image before the prose": (
        '<h1 align="center">Deep RL <b>Course</b></h1>\n<p align="center"><img src="x.png"></p>\n'
        "\n![banner](banner.png)\n\nLearn reinforcement learning by doing.\n",
        "Deep RL Course",
        "Learn reinforcement learning by doing.",
    ),
    "a Setext heading, CRLF line ends, a code fence holding a # comment": (
        "GAN Zoo\r\n=======\r\n\r\n```bash\r\n# install\r\npip install -r x\r\n```\r\n\r\n"
        "Twelve GANs in PyTorch.\r\n",
        "GAN Zoo",
        "Twelve GANs in PyTorch.",
    ),
    "reStructuredText: overlined title, badge directives, inline links": (
        "==============\nKeras Course\n==============\n\n.. image:: https://x.invalid/b.svg\n"
        "   :target: https://x.invalid\n\n|colab|\n\nHands-on `Keras <https://keras.io>`_, "
        "one **notebook** a week.\n\n.. |colab| image:: c.svg\n",
        "Keras Course",
        "Hands-on Keras, one notebook a week.",
    ),
    "a list and an HTML comment are not the description": (
        "<!-- generated -->\n# Notes\n\n- item one\n- item two\n\nThe real text.\n",
        "Notes",
        "The real text.",
    ),
    "no heading at all: the first paragraph, no title": (
        "Just some notebooks about vision.\n",
        "",
        "Just some notebooks about vision.",
    ),
    "a byte-order mark and a closing ATX sequence": (
        "\ufeff# Title with hashes ##\nSecond line is the paragraph.\n",
        "Title with hashes",
        "Second line is the paragraph.",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_first_heading_and_paragraph(case):
    text, title, description = CASES[case]
    found = summarise(text)
    assert (found.title, found.description) == (title, description)


def test_control_characters_never_reach_an_answer():
    found = summarise("# Evil\x1b[31m title\n\nA \x07bell\u202e here.\n")
    assert found.title == "Evil [31m title"
    assert found.description == "A bell here."


def test_a_long_description_stops_at_its_first_sentence_or_a_word():
    sentence = "Learn the transformer architecture by building one. " + "More words. " * 30
    assert shorten(sentence) == "Learn the transformer architecture by building one."
    words = "word " * 80
    cut = shorten(words.strip())
    assert len(cut) <= 200 and cut.endswith("word…")
